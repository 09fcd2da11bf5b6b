/**
 * MQTT topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7): `+` matches one level, `#` the rest (and the
 * parent level), and topics starting with `$` are matched only by filters starting with `$`.
 */

/** Why a filter is invalid, or undefined when it is valid. */
export function filterProblem(filter: string): string | undefined {
  if (filter === '') return 'must not be empty';
  if (filter.includes('\u0000')) return 'must not contain NUL';
  if (Buffer.byteLength(filter) > 65_535) return 'is longer than 65535 bytes';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '"#" must be a whole level, and the last';
    if (level.includes('+') && level !== '+') return '"+" must be a whole level';
  }
  return undefined;
}

/** The levels `+` matched, in order, when the topic matches the filter; undefined otherwise. */
export function matchTopic(filter: string, topic: string): string[] | undefined {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && !filter.startsWith('$')) return undefined;
  const captures: string[] = [];
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return captures;
    if (i >= t.length) return undefined;
    if (f[i] === '+') captures.push(t[i]);
    else if (f[i] !== t[i]) return undefined;
  }
  return f.length === t.length ? captures : undefined;
}
