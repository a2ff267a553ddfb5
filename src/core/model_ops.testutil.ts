/**
 * The random operations of the region-map model test (model.property.test.ts): the `Op` union
 * and its arbitrary, on MicroBlaze's 1K pages. Kept apart from the world that applies them
 * (model_world.testutil.ts) and from the invariants the test checks.
 */
import fc from 'fast-check';

export const PAGE = 1024;
export const AS_PAGES = 512;

export type Op =
  | { t: 'map'; owner: number; pages: number; short: number }
  | { t: 'ram'; owner: number; pages: number }
  | {
      t: 'attach';
      map: number;
      ds: number;
      at: number | null;
      off: number;
      pages: number;
      w: boolean;
      x: boolean;
    }
  | { t: 'detach'; map: number; page: number }
  | { t: 'free'; ds: number; actor: number }
  | { t: 'seal'; ds: number; actor: number }
  | { t: 'handler'; map: number; on: boolean }
  | {
      t: 'access';
      thread: number;
      page: number;
      inRegion: boolean;
      byte: number;
      type: 'read' | 'write' | 'exec';
    }
  | { t: 'kill'; thread: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('map' as const),
      owner: fc.nat(1),
      pages: fc.constantFrom(4, 16, 32, 64),
      // Bytes short of whole pages: the map must round its size up again.
      short: fc.oneof(fc.constant(0), fc.nat(PAGE - 1)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('ram' as const),
      owner: fc.nat(1),
      pages: fc.integer({ min: 1, max: 80 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('attach' as const),
      // Biased towards the faulting component's address space so that accesses find something.
      map: fc.oneof(fc.constant(0), fc.nat(9)),
      ds: fc.nat(19),
      at: fc.option(fc.nat(AS_PAGES), { nil: null }),
      off: fc.nat(20),
      pages: fc.nat(64),
      w: fc.boolean(),
      x: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('detach' as const), map: fc.nat(9), page: fc.nat(AS_PAGES) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('free' as const), ds: fc.nat(19), actor: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('seal' as const), ds: fc.nat(19), actor: fc.nat(1) }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('handler' as const), map: fc.nat(9), on: fc.boolean() }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('access' as const),
      thread: fc.nat(2),
      page: fc.nat(AS_PAGES),
      inRegion: fc.boolean(),
      byte: fc.nat(PAGE - 1),
      type: fc.constantFrom('read' as const, 'write' as const, 'exec' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('kill' as const), thread: fc.nat(2) }) },
);
