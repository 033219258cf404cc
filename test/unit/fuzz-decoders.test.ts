/**
 * Property-based fuzzing (fast-check) of what reads a client's bytes and strings before anything else
 * does: the base64 / data-URL decoder, the PPM and .npy parsers, the header-only dimension reader, the
 * capture cursor, cron, names, ISO dates and regex syntax. Each either accepts or throws its one typed
 * error, on arbitrary input and on valid input mutated; round-trips hold where there is one; and time
 * grows linearly with the input (a 100 KB input against a 10 KB one, as a guard against a quadratic
 * pass, not as a benchmark). Runs are bounded (a few hundred each) so the file stays fast.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, parseIsoDate } from '../../src/capture/queries.ts';
import { checkRegexSyntax } from '../../src/debugger/regex-guard.ts';
import { validateName } from '../../src/endpoints/validation.ts';
import { InvalidImageError, ValidationError } from '../../src/errors.ts';
import { type HeaderFormat, imageDimensions } from '../../src/inference/decode/dimensions.ts';
import { decodeNpy, encodeNpy, readNpyHeader } from '../../src/inference/decode/npy.ts';
import { decodePpm, ImageFormatError, readPpmHeader } from '../../src/inference/decode/ppm.ts';
import { decodeBase64 } from '../../src/inference/image-input.ts';
import { prepareImage, readImageHeader } from '../../src/inference/preprocess.ts';
import { validateResourceName } from '../../src/monitor/resource-name.ts';
import { MAX_CRON_LENGTH, parseCron } from '../../src/monitor/schedules/cron.ts';
import { nulInVariables } from '../../src/server/nul-strings.ts';

const RUNS = 200;

/** any UTF-16 code units, lone surrogates and NUL included */
const anyString = (maxLength = 200) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });

/** `run` returns, or throws an instance of `type`; anything else fails the property */
function returnsOrThrows(type: abstract new (...args: never[]) => Error, run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (error instanceof type) return true;
    throw error;
  }
}

async function returnsOrRejects(type: abstract new (...args: never[]) => Error, run: () => Promise<unknown>) {
  try {
    await run();
    return true;
  } catch (error) {
    if (error instanceof type) return true;
    throw error;
  }
}

/** valid bytes with some bytes replaced, a run inserted, and possibly cut short */
function mutated(originals: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .record({
      original: fc.constantFrom(...originals),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      insert: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0x00, 0x20, 0x39, 0xff), fc.integer({ min: 1, max: 64 }))),
      cut: fc.option(fc.nat()),
    })
    .map(({ original, edits, insert, cut }) => {
      let bytes = Buffer.from(original);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      if (insert) {
        const [at, value, length] = insert;
        const i = at % (bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.alloc(length, value), bytes.subarray(i)]);
      }
      if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      return bytes;
    });
}

/**
 * Time of `run` on a 100 KB input, against a 10 KB one (each the best of five): under a second, and not
 * super-linear. A quadratic pass takes 100× as long for 10× the input (the base64 check once took 6.6 s
 * on 64 KB); the bound allows 40×, above a floor that absorbs a loaded machine's preemptions.
 */
function expectLinear(make: (length: number) => string, run: (input: string) => unknown): void {
  const best = (input: string) => {
    let fastest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      try {
        run(input);
      } catch {
        // refusing is as good as accepting here: only the time is measured
      }
      fastest = Math.min(fastest, performance.now() - started);
    }
    return fastest;
  };
  const small = best(make(10_000));
  const large = best(make(100_000));
  expect(large).toBeLessThan(1000);
  expect(large, `10 KB: ${small.toFixed(2)} ms, 100 KB: ${large.toFixed(2)} ms`).toBeLessThan(
    Math.max(200, 40 * small),
  );
}

describe('base64 and data: URLs (image-input.ts)', () => {
  it('throws nothing but InvalidImageError on any string', () => {
    fc.assert(
      fc.property(anyString(), (text) => returnsOrThrows(InvalidImageError, () => decodeBase64(text, 'image'))),
      { numRuns: RUNS },
    );
  });

  it('throws nothing but InvalidImageError on base64-like text and data: URLs', () => {
    const alphabet = fc.constantFrom(...'ABCXYZabcxyz0189+/-_= \n\t'.split(''), ',', ';', ':', '%', '\u0000');
    const text = fc.string({ unit: alphabet, maxLength: 300 });
    const dataUrl = fc
      .tuple(fc.constantFrom('data:', 'data:image/png;base64,', 'data:;base64', 'data:x;base64,,'), text)
      .map(([prefix, rest]) => prefix + rest);
    fc.assert(
      fc.property(fc.oneof(text, dataUrl), (input) =>
        returnsOrThrows(InvalidImageError, () => decodeBase64(input, 'image')),
      ),
      { numRuns: RUNS },
    );
  });

  it('round-trips any bytes: standard and URL-safe alphabets, whitespace, a data: URL', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom('base64', 'base64url') satisfies fc.Arbitrary<BufferEncoding>,
        fc.nat({ max: 40 }),
        fc.boolean(),
        (bytes, encoding, wrapAt, asDataUrl) => {
          let text = Buffer.from(bytes).toString(encoding);
          if (wrapAt > 0) text = text.replace(new RegExp(`(.{${wrapAt}})`, 'g'), '$1\n');
          if (asDataUrl) text = `data:image/png;base64,${text}`;
          expect(decodeBase64(text, 'image').equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('takes time linear in the length', () => {
    expectLinear(
      (n) => 'A'.repeat(n),
      (s) => decodeBase64(s, 'image'),
    );
    expectLinear(
      (n) => `${'A'.repeat(n)}!`,
      (s) => decodeBase64(s, 'image'),
    );
    expectLinear(
      (n) => ' \n'.repeat(n / 2),
      (s) => decodeBase64(s, 'image'),
    );
    expectLinear(
      (n) => `data:image/png;base64,${'/'.repeat(n)}`,
      (s) => decodeBase64(s, 'image'),
    );
  });
});

describe('PPM and .npy parsers (decode/)', () => {
  const P6 = Buffer.concat([
    Buffer.from('P6\n# a comment\n3 2\n255\n'),
    Buffer.from(Array.from({ length: 18 }, (_, i) => i * 13)),
  ]);
  const P6_16BIT = Buffer.concat([Buffer.from('P6 2 1 65535 '), Buffer.alloc(12, 0x7f)]);
  const P3 = Buffer.from('P3\n2 2\n15\n0 1 2  3 4 5\n6 7 8  9 10 11 # end\n');
  const NPY = encodeNpy({ width: 3, height: 2, rgb: Uint8Array.from({ length: 18 }, (_, i) => i) });
  const NPY_V2 = (() => {
    const v2 = Buffer.concat([NPY.subarray(0, 8), Buffer.alloc(2), NPY.subarray(8)]);
    v2[6] = 2;
    v2.writeUInt32LE(NPY.readUInt16LE(8), 8);
    return v2;
  })();

  it('decode the valid files they are mutated from', () => {
    expect(decodePpm(P6)).toMatchObject({ width: 3, height: 2 });
    expect(decodePpm(P6_16BIT)).toMatchObject({ width: 2, height: 1 });
    expect(Array.from(decodePpm(P3).rgb)).toEqual([0, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187]);
    expect(decodeNpy(NPY)).toMatchObject({ width: 3, height: 2 });
    expect(decodeNpy(NPY_V2)).toMatchObject({ width: 3, height: 2 });
  });

  const decodesOrRefuses =
    (decode: (bytes: Uint8Array) => { width: number; height: number; rgb: Uint8Array }) => (bytes: Uint8Array) =>
      returnsOrThrows(ImageFormatError, () => {
        const image = decode(bytes);
        expect(image.rgb.length).toBe(image.width * image.height * 3);
      });

  it('PPM: throws nothing but ImageFormatError on arbitrary bytes after the magic', () => {
    const bytes = fc
      .tuple(fc.constantFrom('P6', 'P3'), fc.uint8Array({ maxLength: 300 }))
      .map(([magic, rest]) => Buffer.concat([Buffer.from(magic), rest]));
    fc.assert(fc.property(bytes, decodesOrRefuses(decodePpm)), { numRuns: RUNS });
  });

  it('PPM: throws nothing but ImageFormatError on headers of arbitrary numbers', () => {
    const number = fc.oneof(fc.nat().map(String), fc.stringMatching(/^[0-9]{1,40}$/));
    const header = fc
      .tuple(fc.constantFrom('P6', 'P3'), number, number, number, fc.uint8Array({ maxLength: 64 }))
      .map(([magic, w, h, max, rest]) => Buffer.concat([Buffer.from(`${magic}\n${w} ${h}\n${max}\n`), rest]));
    fc.assert(fc.property(header, decodesOrRefuses(decodePpm)), { numRuns: RUNS });
  });

  it('PPM: throws nothing but ImageFormatError on mutated valid files', () => {
    fc.assert(fc.property(mutated([P6, P6_16BIT, P3]), decodesOrRefuses(decodePpm)), { numRuns: RUNS });
  });

  it('.npy: throws nothing but ImageFormatError on arbitrary bytes after the magic', () => {
    const bytes = fc
      .tuple(fc.constantFrom(0, 1, 2, 3, 4, 255), fc.uint8Array({ maxLength: 300 }))
      .map(([version, rest]) => Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version]), rest]));
    fc.assert(fc.property(fc.oneof(bytes, fc.uint8Array({ maxLength: 64 })), decodesOrRefuses(decodeNpy)), {
      numRuns: RUNS,
    });
  });

  it('.npy: throws nothing but ImageFormatError on headers of arbitrary descr, order and shape', () => {
    const dimension = fc.oneof(fc.integer({ min: -5, max: 10 }).map(String), fc.stringMatching(/^[0-9e+.-]{1,24}$/));
    const header = fc
      .record({
        descr: fc.constantFrom('|u1', '<u1', '<f4', "'", ''),
        fortran: fc.constantFrom('False', 'True', 'Maybe'),
        shape: fc.array(dimension, { maxLength: 4 }),
        data: fc.uint8Array({ maxLength: 400 }),
      })
      .map(({ descr, fortran, shape, data }) => {
        const text = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shape.join(', ')}), }\n`;
        const length = Buffer.alloc(2);
        length.writeUInt16LE(text.length);
        return Buffer.concat([NPY.subarray(0, 8), length, Buffer.from(text, 'latin1'), data]);
      });
    fc.assert(fc.property(header, decodesOrRefuses(decodeNpy)), { numRuns: RUNS });
  });

  it('.npy: throws nothing but ImageFormatError on mutated valid files', () => {
    fc.assert(fc.property(mutated([NPY, NPY_V2]), decodesOrRefuses(decodeNpy)), { numRuns: RUNS });
  });

  it('read headers in time linear in the length', () => {
    expectLinear(
      (n) => `P6\n#${'c'.repeat(n)}`,
      (s) => readPpmHeader(Buffer.from(s)),
    );
    expectLinear(
      (n) => `P6 ${'9'.repeat(n)} 1 255\n`,
      (s) => readPpmHeader(Buffer.from(s)),
    );
    expectLinear(
      (n) => `P3 1 ${n / 8} 255 ${'1 2 3 '.repeat(n / 6)}`,
      (s) => decodePpm(Buffer.from(s)),
    );
    // the .npy header is bounded (10,000 bytes): a longer one is refused from its declared length
    expectLinear(
      (n) => `\x93NUMPY\x02\x00${String.fromCharCode(n & 255, (n >> 8) & 255, n >> 16, 0)}${' '.repeat(n)}`,
      (s) => readNpyHeader(Buffer.from(s, 'latin1')),
    );
  });
});

describe('image headers (decode/dimensions.ts, preprocess.ts)', () => {
  let originals: Buffer[] = [];
  const FORMATS: HeaderFormat[] = [
    'image/png',
    'image/jpeg',
    'image/webp',
    'image/x-portable-pixmap',
    'application/x-npy',
  ];

  beforeAll(async () => {
    const noise = Buffer.from(Array.from({ length: 16 * 12 * 3 }, (_, i) => (i * 7919) % 256));
    const image = () => sharp(noise, { raw: { width: 16, height: 12, channels: 3 } });
    originals = await Promise.all([
      image().png().toBuffer(),
      image().jpeg().toBuffer(),
      image().jpeg({ progressive: true }).toBuffer(),
      image().webp().toBuffer(),
      image().webp({ lossless: true }).toBuffer(),
    ]);
    originals.push(
      encodeNpy({ width: 16, height: 12, rgb: noise }),
      Buffer.concat([Buffer.from('P6 16 12 255 '), noise]),
    );
  });

  const validDimensions = (format: HeaderFormat) => (bytes: Uint8Array) => {
    const size = imageDimensions(bytes, format);
    if (size === undefined) return true;
    return Number.isInteger(size.width) && Number.isInteger(size.height) && size.width > 0 && size.height > 0;
  };

  it('reads the size of each valid original', () => {
    for (const original of originals) {
      const { dimensions } = readImageHeader(original);
      expect(dimensions).toEqual({ width: 16, height: 12 });
    }
  });

  it('never throws on arbitrary bytes, in any format, and any size it reports is positive', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATS), fc.uint8Array({ maxLength: 200 }), (format, bytes) =>
        validDimensions(format)(bytes),
      ),
      { numRuns: RUNS },
    );
  });

  it('never throws on mutated valid headers', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATS), mutated(originals), (format, bytes) => validDimensions(format)(bytes)),
      { numRuns: RUNS },
    );
  });

  it('readImageHeader throws nothing but InvalidImageError on mutated files', () => {
    fc.assert(
      fc.property(mutated(originals), (bytes) => returnsOrThrows(InvalidImageError, () => readImageHeader(bytes))),
      { numRuns: RUNS },
    );
  });

  it('prepareImage (sharp included) rejects nothing but InvalidImageError on mutated files', async () => {
    const spec = { inputSize: [8, 8], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as const;
    await fc.assert(
      fc.asyncProperty(mutated(originals), (bytes) =>
        returnsOrRejects(InvalidImageError, () => prepareImage(bytes, spec, { maxPixels: 10_000 })),
      ),
      { numRuns: 100 },
    );
  });

  it('reads a JPEG header in time linear in its length', () => {
    expectLinear(
      (n) => `\xff\xd8${'\xff'.repeat(n)}`,
      (s) => imageDimensions(Buffer.from(s, 'latin1'), 'image/jpeg'),
    );
    expectLinear(
      (n) => `\xff\xd8${'\xff\xfe\x00\x02'.repeat(n / 4)}`,
      (s) => imageDimensions(Buffer.from(s, 'latin1'), 'image/jpeg'),
    );
  });
});

describe('validators: each accepts or throws ValidationError, in linear time', () => {
  const validates = (run: (input: string) => unknown) => (input: string) =>
    returnsOrThrows(ValidationError, () => run(input));

  it('the capture cursor: any string, and every cursor it made decodes to its row', () => {
    fc.assert(fc.property(anyString(), validates(decodeCursor)), { numRuns: RUNS });
    fc.assert(fc.property(fc.base64String({ maxLength: 200 }), validates(decodeCursor)), { numRuns: RUNS });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8.64e15 }), fc.string({ minLength: 1, maxLength: 60 }), (time, id) => {
        expect(decodeCursor(encodeCursor({ inferenceTime: new Date(time), id }))).toEqual({ time, id });
      }),
      { numRuns: RUNS },
    );
    expectLinear((n) => 'A'.repeat(n), decodeCursor);
    expectLinear((n) => encodeCursor({ inferenceTime: new Date(0), id: 'x'.repeat(n) }), decodeCursor);
  });

  it('cron: any string, and strings of its own alphabet', () => {
    const token = fc.oneof(
      fc.constantFrom('*', ',', '-', '/', ' ', '\t', 'MON', 'jan', '@daily', '@nope', '?', 'L', '#'),
      fc.nat({ max: 99 }).map(String),
      fc.stringMatching(/^[0-9]{3,20}$/),
    );
    const cronLike = fc.array(token, { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(fc.property(fc.oneof(anyString(), cronLike), validates(parseCron)), { numRuns: RUNS });
    expectLinear((n) => `${'*,'.repeat(n / 2)}* * * * *`, parseCron);
    expectLinear((n) => `${'0-59/1,'.repeat(n / 7)}0 * * * *`, parseCron);
    expectLinear((n) => `${' '.repeat(n)}x`, parseCron);
    // the longest expression accepted, every item a range: parsed in milliseconds
    const longest = `${'0-59/1,'.repeat(141)}0 * * * *`;
    expect(longest.length).toBeLessThanOrEqual(MAX_CRON_LENGTH);
    const started = performance.now();
    parseCron(longest);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('endpoint and resource names: any string; every name of the grammar is accepted', () => {
    fc.assert(fc.property(anyString(80), validates(validateName)), { numRuns: RUNS });
    fc.assert(
      fc.property(
        anyString(80),
        validates((s) => validateResourceName(s, 'Schedule')),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/), (name) => {
        validateName(name);
        validateResourceName(name, 'Schedule');
      }),
      { numRuns: RUNS },
    );
    expectLinear((n) => `a${'-'.repeat(n)}!`, validateName);
    expectLinear((n) => `${'a-'.repeat(n / 2)}!`, validateName);
    expectLinear(
      (n) => `${'a'.repeat(62)}${'-'.repeat(n)}`,
      (s) => validateResourceName(s, 'Baseline'),
    );
  });

  it('ISO dates: any string; every ISO string of a date in years 0–9999 parses to that date', () => {
    fc.assert(
      fc.property(
        anyString(60),
        validates((s) => parseIsoDate(s, 'from')),
      ),
      { numRuns: RUNS },
    );
    const isoLike = fc
      .array(fc.constantFrom(...'0123456789-T:.Z+ '.split('')), { maxLength: 40 })
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(
        isoLike,
        validates((s) => parseIsoDate(s, 'from')),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          expect(parseIsoDate(date.toISOString(), 'from')?.getTime()).toBe(date.getTime());
        },
      ),
      { numRuns: RUNS },
    );
    expectLinear(
      (n) => `2026-01-01T00:00:00.${'1'.repeat(n)}x`,
      (s) => parseIsoDate(s, 'from'),
    );
    expectLinear(
      (n) => `2026-01-01T00:00:00.${'1'.repeat(n)}Z`,
      (s) => parseIsoDate(s, 'from'),
    );
  });

  it('regex syntax: any string (compiled, never run)', () => {
    const regexLike = fc
      .array(fc.constantFrom(...'()[]{}*+?|\\^$.a-z0-9,<>=!:'.split(''), '(?<', '(?:', '\\k<', '{2,}'), {
        maxLength: 60,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        fc.oneof(anyString(), regexLike),
        validates((s) => checkRegexSyntax(s, 'regex')),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('NUL in GraphQL variables (server/nul-strings.ts)', () => {
  const naive = (value: unknown): boolean =>
    typeof value === 'string'
      ? value.includes('\u0000')
      : typeof value === 'object' && value !== null
        ? Object.entries(value).some(([k, v]) => k.includes('\u0000') || naive(v))
        : false;

  it('finds a NUL wherever it is in any JSON value, and only then', () => {
    const json = fc.jsonValue({ maxDepth: 4, stringUnit: fc.constantFrom('a', 'b', '\u0000', '\ud800', ' ') });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 4 }), (variables) => {
        expect(nulInVariables(variables) !== undefined).toBe(naive(variables));
      }),
      { numRuns: RUNS },
    );
  });

  it('walks variables nested 200,000 deep without recursion', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(nulInVariables({ deep })).toMatch(/^the variable \$deep\[0\]/);
  });
});
