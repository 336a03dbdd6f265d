/** Names lastmile gives things in Temporal: ids, schedules, search attributes (defined with the workflows, which use them too). */
export { ALL_TARGETS, MONITOR_TARGET, monitorId, runKeyOf, scheduleId, workflowId } from '../../workflows/ids.js';
export { SEARCH_ATTRIBUTES, runSearchAttributes, type SearchAttributeName } from '../../workflows/search-attributes.js';
