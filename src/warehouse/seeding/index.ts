export { defineSeed, isSeedDefinition, seedSpecProblems, SEED_NAME } from './spec.js';
export type {
  SeedBuildContext,
  SeedBuildReport,
  SeedChecksum,
  SeedDb,
  SeedDefinition,
  SeedQueryResult,
  SeedReapply,
  SeedScale,
  SeedSpec,
  SeedSpecProblem,
  SeedTable,
} from './spec.js';
export { applySeed, seedChecksum } from './apply.js';
export type { SeedOptions, SeedProgress, SeedResult, SeedStep, SeedTarget } from './apply.js';
export { checksumTables, combineDigests, digestTables, STABLE_TEXT_SETTINGS } from './checksum.js';
export type { TableDigest } from './checksum.js';
export { SEED_RECORD_TABLE } from './record.js';
