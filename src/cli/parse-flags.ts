import { PkghuntError } from '../core/errors.ts';

export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${flag} ${JSON.stringify(value)}: expected a positive whole number`,
    );
  }
  return n;
}

export function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${flag} ${JSON.stringify(value)}: expected a positive number`,
    );
  }
  return n;
}

/** A date (YYYY-MM-DD or full ISO-8601) as an ISO string in UTC. */
export function isoDate(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${flag} ${JSON.stringify(value)}: expected a date such as 2024-01-31`,
    );
  }
  return new Date(ms).toISOString();
}
