import { cdkLibrary, preference } from "../../lib/cdk";

test("the library the app already loaded wins, else cdktf, else cdktn; WEBSHARE_CDK forces one", () => {
  expect(preference({}, () => false)).toEqual(["cdktf", "cdktn"]);
  expect(preference({}, (name) => name === "cdktn")).toEqual(["cdktn", "cdktf"]);
  expect(preference({ WEBSHARE_CDK: "cdktn" }, (name) => name === "cdktf")).toEqual(["cdktn"]);
  expect(() => preference({ WEBSHARE_CDK: "cdk8s" }, () => false)).toThrow('WEBSHARE_CDK must be "cdktf" or "cdktn", not "cdk8s"');
  // This repository installs cdktf only (a dev dependency).
  expect(cdkLibrary).toBe("cdktf");
});
