/** The explicit opt-out value for host key checking (same string the constructs export). */
export const HOST_KEY_INSECURE_ACCEPT_ANY_VALUE = "INSECURE-ACCEPT-ANY-HOST-KEY";
