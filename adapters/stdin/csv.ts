/**
 * Splits one CSV record (RFC 4180 quoting: a field in double quotes may hold commas, and "" stands
 * for one quote). A record is one line: a quoted field cannot span lines here, since input is
 * judged line by line and reported by line number.
 */
export function splitCsvLine(line: string): string[] | { readonly error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) return { error: 'unterminated quoted field' };
        value += line.slice(i, close);
        i = close + 1;
        if (line[i] !== '"') break;
        value += '"';
        i++;
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') return { error: `unexpected character after a quoted field at column ${i + 1}` };
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      const value = line.slice(i, end);
      if (value.includes('"')) return { error: `stray quote in an unquoted field at column ${i + value.indexOf('"') + 1}` };
      fields.push(value);
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // past the comma
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}
