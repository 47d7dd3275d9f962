import { describe, expect, it } from "vitest";
import { sentFeaturesText } from "../../src/server/instances.js";

describe("sentFeaturesText (the prediction log stores features as sent)", () => {
  it("takes the features object of a compact single-row body, byte for byte", () => {
    const features = '{"x01":1.50,"x02":-3e2,"colour":"re\\"d}","nested":[1,{"a":"]"}]}';
    expect(sentFeaturesText(`{"features":${features}}`)).toBe(features);
    expect(sentFeaturesText(`{"features":${features}}\n`)).toBe(features);
    expect(sentFeaturesText(`{"features":${features} }`)).toBe(features);
  });

  it("leaves every other body to JSON.stringify", () => {
    for (const body of [
      '{"features":{"a":1},"features":{"a":2}}',
      '{"features":{"a":1},"request_id":"r1"}',
      '{"request_id":"r1","features":{"a":1}}',
      '{ "features": {"a":1}}',
      '{"features":[1,2]}',
      '{"instances":[{"a":1}]}',
    ]) {
      expect(sentFeaturesText(body), body).toBeUndefined();
    }
    expect(sentFeaturesText(undefined)).toBeUndefined();
  });
});
