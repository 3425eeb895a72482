// RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Also reads tab-separated
// files when asked. Used for manifests and corpus metadata (VoxCeleb2's vox2_meta.csv).

export interface CsvOptions {
  /** Field separator; default ','. 'auto' picks ',' or '\t' from the first line. */
  delimiter?: string | 'auto';
  /** Trim spaces around unquoted fields (vox2_meta.csv has 'id00012 ,n000012 ,m ,dev '). Default true. */
  trim?: boolean;
}

/**
 * Parses CSV text into rows of fields. Blank lines are skipped; a UTF-8 BOM is dropped.
 *
 * @example
 * parseCsv('path,speaker\n"a, b.wav",s1\n') // → [['path', 'speaker'], ['a, b.wav', 's1']]
 */
export function parseCsv(text: string, opts: CsvOptions = {}): string[][] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let delim = opts.delimiter ?? ',';
  if (delim === 'auto') {
    const first = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length);
    delim = first.split('\t').length > first.split(',').length ? '\t' : ',';
  }
  const trim = opts.trim ?? true;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false; // the current field was quoted (then it is not trimmed)
  let inQuotes = false;
  const endField = () => {
    row.push(quoted || !trim ? field : field.trim());
    field = '';
    quoted = false;
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += c;
    } else if (c === '"' && field.trim() === '') {
      inQuotes = true;
      quoted = true;
      field = '';
    } else if (c === delim) endField();
    else if (c === '\n') endRow();
    else if (c === '\r') {
      if (text[i + 1] !== '\n') endRow();
    } else field += c;
  }
  if (inQuotes) throw new SyntaxError('CSV: a quoted field is not closed before the end of the file');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/**
 * Parses CSV with a header row into records keyed by the (trimmed) header names.
 * Rows shorter than the header get '' for the missing fields.
 *
 * @example
 * parseCsvRecords('a,b\n1,2\n') // → { header: ['a', 'b'], records: [{ a: '1', b: '2' }] }
 */
export function parseCsvRecords(
  text: string,
  opts: CsvOptions = {},
): { header: string[]; records: Record<string, string>[] } {
  const rows = parseCsv(text, opts);
  const header = (rows[0] ?? []).map((h) => h.trim());
  const records = rows.slice(1).map((r) => {
    const rec: Record<string, string> = {};
    header.forEach((h, i) => {
      rec[h] = r[i] ?? '';
    });
    return rec;
  });
  return { header, records };
}

/** Quotes a field when it holds the separator, a quote or a newline. */
export function csvField(value: string | number | undefined, delimiter = ','): string {
  const s = value === undefined ? '' : String(value);
  return /["\r\n]/.test(s) || s.includes(delimiter) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Formats rows as CSV text ending in a newline. */
export function formatCsv(rows: (string | number | undefined)[][], delimiter = ','): string {
  return rows.map((r) => r.map((v) => csvField(v, delimiter)).join(delimiter)).join('\n') + '\n';
}
