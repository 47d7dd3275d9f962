/** promote notifies running servers on this PostgreSQL channel; they reload the active version. */
export const MODEL_CHANNEL = "mlops_model";
