/** SLOs: which a product declares, their deadlines, burn-rate alerting and the evaluation of measurements. */
export {
  DEFAULT_OBJECTIVE,
  SLI_NAMES,
  SLO_NAMES,
  declaredSlos,
  sliName,
  sloObjective,
  sloOfSli,
  sloThreshold,
  sloWindowMs,
  type SloName,
} from './names.js';
export {
  deadlineAtOrBefore,
  expectedDeadlines,
  expectedDelivery,
  nextDeadlineAfter,
  parseDeliverBy,
  productSchedules,
  type Deadline,
} from './deadlines.js';
export { BURN_RULES, burnLookbacks, burnRate, burnRuleText, isFastBurn, type BurnRate, type BurnRule, type Lookback } from './burn.js';
export { currentText, evaluateSlos, type SloQueryable, type SloState, type SloStatus } from './evaluate.js';
export { percent, span } from './format.js';
