import { splitCsvLine } from './csv';

describe('splitCsvLine', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['', ['']],
    ['a,,c', ['a', '', 'c']],
    ['a,', ['a', '']],
    [',a', ['', 'a']],
    ['"a,b",c', ['a,b', 'c']],
    ['"say ""hi""",x', ['say "hi"', 'x']],
    ['"",x', ['', 'x']],
    ['x,"y"', ['x', 'y']],
    ['"a",', ['a', '']],
    [' a , b ', [' a ', ' b ']],
  ])('%j', (line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });

  it.each([
    ['"abc,d', 'unterminated quoted field'],
    ['"a"b,c', 'unexpected character after a quoted field at column 4'],
    ['ab"c,d', 'stray quote in an unquoted field at column 3'],
  ])('refuses %j', (line, error) => {
    expect(splitCsvLine(line)).toEqual({ error });
  });
});
