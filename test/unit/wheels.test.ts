import { compiledWheels, LocalPython, localPythonFit, pipWheelArgv, wheelhouseChanges } from "../../lib/wheels/plan";
import { venvSpec } from "./drift-fixtures";

/** The pure parts of `webshare wheels`: the pip command, the interpreter check, what is new. */
const local: LocalPython = { command: "python3", executable: "/opt/py/bin/python3", version: "3.11.7", platform: "linux-x86_64" };

test("pip wheel builds into the wheelhouse from the lock, with the Venv's own sources and the wheelhouse as find-links", () => {
  const spec = venvSpec({ source: { indexUrl: "https://pypi.example/simple", extraIndexUrls: ["https://extra.example/simple"], noIndex: false, wheelhouse: "wheels" } });
  expect(pipWheelArgv("python3", spec)).toEqual([
    "python3", "-m", "pip", "--disable-pip-version-check", "--no-input", "wheel", "--wheel-dir", "wheels",
    "--index-url", "https://pypi.example/simple", "--extra-index-url", "https://extra.example/simple", "--find-links", "wheels",
    "-r", "app/requirements.lock",
  ]);
});

test("without a lock it builds from the requirements; noIndex adds --no-index; paths stay single argv items", () => {
  const spec = venvSpec({ lockFile: undefined, requirementsFile: "my app/req's.txt", source: { extraIndexUrls: [], noIndex: true, wheelhouse: "the wheels" } });
  expect(pipWheelArgv("/usr/bin/python3", spec)).toEqual([
    "/usr/bin/python3", "-m", "pip", "--disable-pip-version-check", "--no-input", "wheel", "--wheel-dir", "the wheels", "--no-index", "--find-links", "the wheels", "-r", "my app/req's.txt",
  ]);
  expect(() => pipWheelArgv("python3", venvSpec())).toThrow("site/venv has no wheelhouse");
});

test("a declared pythonVersion must equal the local X.Y; without one the result is a warning naming what is built", () => {
  expect(localPythonFit(local, venvSpec({ pythonVersion: "3.11" }))).toEqual({ ok: true, message: "Python 3.11.7 on linux-x86_64 matches pythonVersion 3.11" });
  expect(localPythonFit(local, venvSpec({ pythonVersion: "3.12" }))).toEqual({
    ok: false,
    message: "site/venv needs Python 3.12 (its pythonVersion), but python3 is Python 3.11.7 on linux-x86_64",
  });
  // 3.1 is not 3.11: the comparison is on X.Y, not a prefix.
  expect(localPythonFit({ ...local, version: "3.1.5" }, venvSpec({ pythonVersion: "3.11" })).ok).toBe(false);
  const undeclared = localPythonFit(local, venvSpec());
  expect(undeclared.ok).toBe(true);
  expect(undeclared.message).toMatch(/^warning: site\/venv declares no pythonVersion; building with Python 3\.11\.7 on linux-x86_64\. Compiled .* same Python X\.Y and platform \(this Venv's host runs \/usr\/bin\/python3\)$/);
});

test("new files are those not there before; a file with other content is replaced; both sorted", () => {
  const a = "a".repeat(64);
  const b = "b".repeat(64);
  expect(wheelhouseChanges({ "x-1-py3-none-any.whl": a, "y-1-py3-none-any.whl": a }, { "z-1-py3-none-any.whl": a, "x-1-py3-none-any.whl": a, "y-1-py3-none-any.whl": b, "c-2-py3-none-any.whl": b })).toEqual({
    added: ["c-2-py3-none-any.whl", "z-1-py3-none-any.whl"],
    replaced: ["y-1-py3-none-any.whl"],
  });
  expect(wheelhouseChanges({ "x.whl": a }, {})).toEqual({ added: [], replaced: [] });
});

test("compiled wheels are the ones not tagged none-any", () => {
  expect(
    compiledWheels([
      "greeting-1.0-py3-none-any.whl",
      "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
      "cffi-1.16.0-1-cp311-cp311-linux_x86_64.whl",
      "thing-1.0-cp311-abi3-any.whl",
      "README.txt",
    ]),
  ).toEqual(["MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "cffi-1.16.0-1-cp311-cp311-linux_x86_64.whl", "thing-1.0-cp311-abi3-any.whl"]);
});
