/** A value exactly as a source delivered it: CSV gives strings, JSON gives its own types. */
export type RawValue = string | number | boolean | null;

/** One record as received, column name to value. */
export type RawRow = Record<string, RawValue>;

/** A feature value after validation: numbers for numeric features, strings for categorical. */
export type FeatureValue = number | string | null;

/** The label after validation: 1 positive, 0 negative, null when the row is unlabelled. */
export type LabelValue = 0 | 1 | null;
