import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PkghuntError } from '../errors.ts';

/** An XML-RPC value, decoded: the types the index's changelog uses. */
export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [key: string]: XmlRpcValue };

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A methodCall body with integer or string parameters. */
export function xmlRpcCall(method: string, params: readonly (number | string)[]): string {
  const values = params
    .map((p) =>
      typeof p === 'number'
        ? `<param><value><int>${Math.trunc(p)}</int></value></param>`
        : `<param><value><string>${escapeXml(p)}</string></value></param>`,
    )
    .join('');
  return `<?xml version="1.0"?><methodCall><methodName>${escapeXml(method)}</methodName><params>${values}</params></methodCall>`;
}

function bad(source: string, why: string): PkghuntError {
  return new PkghuntError('FEED_BAD_RESPONSE', `Cannot parse the XML-RPC answer of ${source}: ${why}`, {
    hint: 'Check --changelog-url, or run with --no-changelog to rely on the RSS feeds alone.',
  });
}

type Node = Record<string, unknown>;

function asNode(value: unknown): Node | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Node) : null;
}

function decode(value: unknown, source: string): XmlRpcValue {
  if (typeof value === 'string') return value; // <value>text</value> is a string
  const node = asNode(value);
  if (node === null) throw bad(source, 'a value is not an element');
  const [type, ...rest] = Object.keys(node);
  if (type === undefined) return '';
  if (rest.length > 0) throw bad(source, `a value holds several types (${Object.keys(node).join(', ')})`);
  const inner = node[type];
  const scalar = typeof inner === 'string' ? inner.trim() : '';
  switch (type) {
    case 'string':
      return typeof inner === 'string' ? inner : '';
    case 'int':
    case 'i4':
    case 'i8':
    case 'double': {
      const n = Number(scalar);
      if (scalar === '' || !Number.isFinite(n))
        throw bad(source, `${JSON.stringify(scalar)} is not a number`);
      return n;
    }
    case 'boolean':
      return scalar === '1';
    case 'nil':
      return null;
    case 'dateTime.iso8601':
      return scalar;
    case 'array': {
      const data = asNode(asArray(asNode(inner)?.data)[0]);
      const values = data?.value;
      if (values === undefined || values === '') return [];
      return (Array.isArray(values) ? values : [values]).map((v) => decode(v, source));
    }
    case 'struct': {
      const members = asNode(inner)?.member;
      const out: Record<string, XmlRpcValue> = {};
      for (const m of Array.isArray(members) ? members : members === undefined ? [] : [members]) {
        const member = asNode(m);
        if (member === null || typeof member.name !== 'string')
          throw bad(source, 'a struct member has no name');
        out[member.name] = decode(Array.isArray(member.value) ? member.value[0] : member.value, source);
      }
      return out;
    }
    default:
      throw bad(source, `unknown value type <${type}>`);
  }
}

/**
 * The value of an XML-RPC methodResponse. A <fault> becomes FEED_UNAVAILABLE with its message;
 * malformed XML or an unknown shape becomes FEED_BAD_RESPONSE.
 */
export function parseXmlRpcResponse(xml: string, source: string): XmlRpcValue {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw bad(source, `malformed XML at line ${valid.err.line}: ${valid.err.msg}`);
  const parser = new XMLParser({
    ignoreAttributes: true,
    parseTagValue: false,
    trimValues: false,
    processEntities: true,
    isArray: (name) => name === 'value' || name === 'member' || name === 'param' || name === 'data',
  });
  const doc = asNode(parser.parse(xml));
  const response = asNode(doc?.methodResponse);
  if (response === null) throw bad(source, 'no <methodResponse>');
  const fault = asNode(response.fault);
  if (fault !== null) {
    const detail = decode(asArray(fault.value)[0], source);
    const message =
      typeof detail === 'object' && detail !== null && !Array.isArray(detail)
        ? String(detail.faultString ?? 'fault')
        : String(detail);
    throw new PkghuntError(
      'FEED_UNAVAILABLE',
      `The XML-RPC endpoint ${source} answered a fault: ${message}`,
      {
        hint: 'Run with --no-changelog to rely on the RSS feeds alone.',
      },
    );
  }
  const params = asNode(asArray(response.params)[0]);
  const param = asNode(asArray(params?.param)[0]);
  const value = asArray(param?.value)[0];
  if (value === undefined) throw bad(source, 'no <param><value>');
  return decode(value, source);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
