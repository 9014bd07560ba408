import { checkInterpreterMatchesModWsgi, libpythonVersion } from "../../lib/python-compat";

const debianLib = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";
const debian = { executable: "/usr/bin/python3", version: "3.11.2", basePrefix: "/usr", libpython: debianLib };
const modWsgi = { module: "/usr/lib/apache2/modules/mod_wsgi.so", libpython: debianLib };

describe("checkInterpreterMatchesModWsgi", () => {
  test("the same installation matches", () => {
    expect(checkInterpreterMatchesModWsgi(debian, modWsgi)).toEqual({ ok: true });
  });

  test("another X.Y is refused with both versions named", () => {
    const result = checkInterpreterMatchesModWsgi({ ...debian, executable: "/usr/bin/python3.12", version: "3.12.1", libpython: "/usr/lib/libpython3.12.so.1.0" }, modWsgi);
    expect(result).toEqual({ ok: false, reason: `/usr/bin/python3.12 is Python 3.12.1, but mod_wsgi (/usr/lib/apache2/modules/mod_wsgi.so) runs Python 3.11 from ${debianLib}` });
  });

  test("the same X.Y from another build (debug, pyenv) is refused", () => {
    const result = checkInterpreterMatchesModWsgi({ ...debian, executable: "/usr/bin/python3.11d", libpython: "/usr/lib/x86_64-linux-gnu/libpython3.11d.so.1.0" }, modWsgi);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/another build of Python/);
  });

  test("an interpreter without a shared libpython is refused", () => {
    const result = checkInterpreterMatchesModWsgi({ ...debian, libpython: undefined }, modWsgi);
    expect(!result.ok && result.reason).toMatch(/has no shared libpython/);
  });

  test("an unreadable mod_wsgi is reported, not assumed", () => {
    expect(checkInterpreterMatchesModWsgi(debian, { module: "/x/mod_wsgi.so" }).ok).toBe(false);
  });

  test("libpythonVersion reads X.Y from library names", () => {
    expect(libpythonVersion(debianLib)).toBe("3.11");
    expect(libpythonVersion("/usr/lib/libpython3.11d.so.1.0")).toBe("3.11");
    expect(libpythonVersion("/usr/lib/libc.so.6")).toBeUndefined();
  });
});
