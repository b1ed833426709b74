import { Parser } from 'htmlparser2';
import { PkghuntError } from '../errors.ts';
import { type ProjectFile, type ProjectPage, SimpleJsonPage } from './project-page.ts';

function splitUrl(href: string, base: string): { url: string; hashes: Record<string, string> } {
  const url = new URL(href, base);
  const hashes: Record<string, string> = {};
  const fragment = url.hash.replace(/^#/, '');
  const eq = fragment.indexOf('=');
  if (eq > 0) hashes[fragment.slice(0, eq).toLowerCase()] = fragment.slice(eq + 1).toLowerCase();
  url.hash = '';
  return { url: url.href, hashes };
}

function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  return decodeURIComponent(last);
}

/** Parses a PEP 503 HTML project page; links are resolved against `pageUrl`. */
export function parseSimpleHtml(html: string, options: { pageUrl: string; name: string }): ProjectPage {
  const files: ProjectFile[] = [];
  let current: { attrs: Record<string, string>; text: string } | null = null;
  const parser = new Parser(
    {
      onopentag(tag, attrs) {
        if (tag === 'a') current = { attrs, text: '' };
      },
      ontext(text) {
        if (current) current.text += text;
      },
      onclosetag(tag) {
        if (tag !== 'a' || current === null) return;
        const { attrs, text } = current;
        current = null;
        const href = attrs.href;
        if (!href) return;
        let split: { url: string; hashes: Record<string, string> };
        try {
          split = splitUrl(href, options.pageUrl);
        } catch {
          return;
        }
        const filename = text.trim() || fileNameOf(split.url);
        files.push({
          filename,
          url: split.url,
          hashes: split.hashes,
          requiresPython: attrs['data-requires-python'] ?? null,
          yanked: attrs['data-yanked'] ?? false,
        });
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { name: options.name, files };
}

/** Parses a PEP 691 JSON project page; relative URLs are resolved against `pageUrl`. */
export function parseSimpleJson(body: string, options: { pageUrl: string }): ProjectPage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot parse JSON project page ${options.pageUrl}`, {
      cause,
    });
  }
  const parsed = SimpleJsonPage.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'INDEX_BAD_RESPONSE',
      `Cannot read JSON project page ${options.pageUrl}: ${parsed.error.issues[0]?.message ?? 'bad shape'}`,
      { cause: parsed.error },
    );
  }
  const files = parsed.data.files.map((file): ProjectFile => {
    const split = splitUrl(file.url, options.pageUrl);
    const yanked =
      file.yanked === undefined || file.yanked === false ? false : file.yanked === true ? '' : file.yanked;
    const hashes = Object.fromEntries(
      Object.entries({ ...split.hashes, ...file.hashes }).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]),
    );
    return {
      filename: file.filename,
      url: split.url,
      hashes,
      requiresPython: file['requires-python'] ?? null,
      yanked,
      ...(file['upload-time'] === undefined ? {} : { uploadTime: file['upload-time'] }),
    };
  });
  return { name: parsed.data.name, files };
}
