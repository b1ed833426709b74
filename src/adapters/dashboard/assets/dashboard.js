// pkghunt dashboard script. Everything a package controls is set with textContent or as a
// URL-encoded path segment: this file never writes HTML (no innerHTML, no eval), and the server's
// Content-Security-Policy allows no other script.

(() => {
  const body = document.body;

  function cell(row, text, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    if (text !== null && text !== undefined) td.textContent = String(text);
    row.appendChild(td);
    return td;
  }

  function packageLink(r) {
    const a = document.createElement('a');
    const version = r.version === null ? '' : `/${encodeURIComponent(r.version)}`;
    a.setAttribute('href', `/package/${encodeURIComponent(r.project)}${version}`);
    a.textContent = `${r.project} ${r.version ?? ''}`;
    return a;
  }

  function levelBadge(level) {
    const span = document.createElement('span');
    const value = level ?? 'none';
    span.className = `level level-${/^[a-z]+$/.test(value) ? value : 'other'}`;
    span.textContent = value;
    return span;
  }

  function addVerdict(r) {
    const feed = document.getElementById('live-feed');
    if (feed) {
      const tr = document.createElement('tr');
      tr.dataset.id = String(r.id);
      tr.className = 'fresh';
      cell(tr, r.storedAt.slice(0, 19).replace('T', ' '));
      cell(tr, null).appendChild(packageLink(r));
      cell(tr, null).appendChild(levelBadge(r.verdictLevel));
      cell(tr, r.verdictScore, 'n');
      feed.insertBefore(tr, feed.firstChild);
    }
    const queue = document.getElementById('triage-queue');
    if (queue && (r.verdictLevel === 'suspicious' || r.verdictLevel === 'malicious')) {
      const tr = document.createElement('tr');
      tr.dataset.id = String(r.id);
      tr.className = 'fresh';
      cell(tr, null).appendChild(packageLink(r));
      cell(tr, null).appendChild(levelBadge(r.verdictLevel));
      cell(tr, r.verdictScore, 'n');
      cell(tr, '');
      cell(tr, r.storedAt.slice(0, 10));
      cell(tr, 'new: open it to triage');
      cell(tr, '');
      queue.insertBefore(tr, queue.firstChild);
    }
  }

  // Live: new verdicts while a hunt or watch writes the store (Server-Sent Events).
  const after = body.dataset.liveAfter;
  const status = document.getElementById('live-status');
  if (after !== undefined && 'EventSource' in window) {
    const source = new EventSource(`/api/events?after=${encodeURIComponent(after)}`);
    source.addEventListener('verdict', (event) => addVerdict(JSON.parse(event.data)));
    source.addEventListener('open', () => {
      if (status) status.textContent = 'live';
    });
    source.addEventListener('error', () => {
      if (status) status.textContent = 'reconnecting';
    });
  }

  // Triage: the token and analyst name stay in this tab (sessionStorage), sent as a Bearer token.
  const tokenInput = document.getElementById('triage-token');
  const analystInput = document.getElementById('triage-analyst');
  for (const [input, key] of [
    [tokenInput, 'pkghunt-token'],
    [analystInput, 'pkghunt-analyst'],
  ]) {
    if (!input) continue;
    input.value = sessionStorage.getItem(key) ?? '';
    input.addEventListener('change', () => sessionStorage.setItem(key, input.value));
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains('decide')) return;
    event.preventDefault();
    const saved = form.querySelector('.saved');
    const token = tokenInput ? tokenInput.value : '';
    const data = {
      project: form.dataset.project,
      version: form.dataset.version,
      rule: form.dataset.rule ? form.dataset.rule : null,
      label: form.elements.namedItem('label').value,
      comment: form.elements.namedItem('comment').value,
      analyst: analystInput && analystInput.value !== '' ? analystInput.value : null,
    };
    try {
      const response = await fetch('/api/triage', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(data),
      });
      const answer = await response.json();
      if (!response.ok) {
        saved.textContent = `not saved: ${answer.error?.message ?? response.status}`;
        return;
      }
      saved.textContent = `saved: ${answer.decision.label.replace('_', ' ')}`;
      const row = form.closest('tr');
      const current = row ? row.querySelector('.current-decision') : null;
      if (current && data.rule === null) current.textContent = answer.decision.label.replace('_', ' ');
      if (data.rule === null && answer.decision.label === 'confirmed_malicious') {
        // A confirmed release has its report draft: offer it right here.
        const a = document.createElement('a');
        a.className = 'draft-link';
        a.setAttribute(
          'href',
          `/package/${encodeURIComponent(answer.decision.project)}/${encodeURIComponent(answer.decision.version)}/report-draft`,
        );
        a.textContent = 'open the report draft';
        saved.appendChild(document.createTextNode(' · '));
        saved.appendChild(a);
      }
    } catch (error) {
      saved.textContent = `not saved: ${error}`;
    }
  });
})();
