/**
 * The error type of "bad input, do not retry": an activity failure of this type ends its retries, and every lastmile
 * workflow lists it in its retry policies. The name is defined here, once, for workflows and activities alike.
 */
export const INPUT_ERROR = 'LastmileInputError';
