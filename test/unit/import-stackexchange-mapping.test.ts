import {
  HANDLE_RE, TAG_RE, allocateHandle, dumpTimestamp, handleBase, normaliseTagName, parseTagsAttribute,
} from '../../src/modules/import/stackexchange.mapping';

describe('Stack Exchange handle mapping', () => {
  it('turns a display name into a handle that passes the handle rule', () => {
    expect(handleBase('Adam Lear')).toBe('Adam_Lear');
    expect(handleBase('  José Müller-Ñandú ')).toBe('Jose_Muller-Nandu');
    expect(handleBase('.dot.leading.')).toBe('dot.leading');
    expect(HANDLE_RE.test(handleBase('x'.repeat(80))!)).toBe(true);
  });

  it('gives no base for names with nothing usable, so the account id is used instead', () => {
    expect(handleBase('张伟')).toBeNull();
    expect(handleBase('Q')).toBeNull();
    expect(allocateHandle('张伟', '42', new Set())).toBe('user42');
  });

  it('keeps handles unique whatever their case by appending the account id', () => {
    const taken = new Set<string>(['ada']);
    expect(allocateHandle('Ada', '7', taken)).toBe('Ada_7');
    expect(allocateHandle('ADA', '8', taken)).toBe('ADA_8');
    expect(allocateHandle('Blue', '9', taken)).toBe('Blue');
    expect(allocateHandle('blue', '10', taken)).toBe('blue_10');
    expect(taken).toEqual(new Set(['ada', 'ada_7', 'ada_8', 'blue', 'blue_10']));
  });

  it('allocates the same handles for the same names in the same order', () => {
    const run = () => {
      const taken = new Set<string>();
      return ['Sam', 'sam', 'Sam', '', 'x'.repeat(60)].map((n, i) => allocateHandle(n, String(i - 1), taken));
    };
    expect(run()).toEqual(run());
    expect(run().every((h) => HANDLE_RE.test(h))).toBe(true);
  });
});

describe('Stack Exchange tag mapping', () => {
  it('normalises tag names to the tag rule and drops what cannot fit', () => {
    expect(normaliseTagName('Quantum Gate')).toBe('quantum-gate');
    expect(normaliseTagName('q#')).toBe('q#');
    expect(normaliseTagName('c++')).toBe('c++');
    expect(normaliseTagName('.net')).toBe('net');
    expect(normaliseTagName('ψ')).toBeNull();
    expect(TAG_RE.test(normaliseTagName('a'.repeat(50))!)).toBe(true);
  });

  it('reads the angle-bracket and the pipe forms of the Tags attribute', () => {
    expect(parseTagsAttribute('<simulation><quantum-turing-machine>')).toEqual(['simulation', 'quantum-turing-machine']);
    expect(parseTagsAttribute('|qiskit|ibm-q-experience|')).toEqual(['qiskit', 'ibm-q-experience']);
    expect(parseTagsAttribute(undefined)).toEqual([]);
  });

  it('keeps at most five distinct tags', () => {
    expect(parseTagsAttribute('<a1><A1><b><c><d><e><f>')).toEqual(['a1', 'b', 'c', 'd', 'e']);
  });
});

describe('Stack Exchange timestamps', () => {
  it('reads dump timestamps as UTC', () => {
    expect(new Date(dumpTimestamp('2018-03-12T17:00:45.567')!).toISOString()).toBe('2018-03-12T17:00:45.567Z');
    expect(dumpTimestamp('2018-03-12T17:00:45Z')).toBe('2018-03-12T17:00:45Z');
    expect(dumpTimestamp(undefined)).toBeNull();
  });
});
