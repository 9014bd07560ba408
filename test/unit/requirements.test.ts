import fc from "fast-check";
import {
  normalizeName,
  packagesFromEntries,
  parseRequirements,
  renderRequirements,
  type RequirementEntry,
} from "../../lib/requirements";

const SHA_A = `sha256:${"a".repeat(64)}`;
const SHA_B = `sha256:${"b".repeat(64)}`;

/** Parse text that must be free of errors. */
function entries(text: string): RequirementEntry[] {
  const parsed = parseRequirements(text);
  expect(parsed.errors).toEqual([]);
  return parsed.entries;
}

/** The single entry of a one-line file, without line/raw. */
function one(text: string): Record<string, unknown> {
  const all = entries(text);
  expect(all).toHaveLength(1);
  return withoutPlace(all[0]!);
}

function withoutPlace(entry: RequirementEntry): Record<string, unknown> {
  const { line: _line, raw: _raw, ...rest } = entry;
  return rest;
}

describe("normalizeName", () => {
  test.each(["Foo_Bar", "foo-bar", "FOO.BAR", "foo__bar", "Foo-_.Bar", "foo---bar"])("%s -> foo-bar", (name) => {
    expect(normalizeName(name)).toBe("foo-bar");
  });

  test("keeps what PEP 503 keeps", () => {
    expect(normalizeName("zope.interface")).toBe("zope-interface");
    expect(normalizeName("Django")).toBe("django");
    expect(normalizeName("py3k")).toBe("py3k");
  });

  test("is idempotent", () => {
    fc.assert(fc.property(fc.string(), (name) => expect(normalizeName(normalizeName(name))).toBe(normalizeName(name))));
  });

  test("names differing only in case and separators normalise equal", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 }), fc.array(fc.constantFrom("-", "_", ".", "__", "-.")), fc.boolean(), (words, seps, upper) => {
        const spelled = words.map((w, i) => (i ? (seps[i] ?? "_") : "") + (upper ? w.toUpperCase() : w)).join("");
        expect(normalizeName(spelled)).toBe(words.join("-"));
      }),
    );
  });
});

describe("requirement lines", () => {
  test("name==version is pinned", () => {
    expect(one("requests==2.31.0")).toEqual({
      kind: "pinned",
      name: "requests",
      originalName: "requests",
      extras: [],
      hashes: [],
      operator: "==",
      version: "2.31.0",
    });
  });

  test("=== is pinned, with any version text", () => {
    expect(one("legacy===1.0-weird.x")).toMatchObject({ kind: "pinned", operator: "===", version: "1.0-weird.x" });
  });

  test("names are normalised and the original kept", () => {
    expect(one("Flask_Login.Extra==0.6.3")).toMatchObject({ name: "flask-login-extra", originalName: "Flask_Login.Extra" });
  });

  test("spaces around the operator are allowed", () => {
    expect(one("requests  ==  2.31.0")).toMatchObject({ kind: "pinned", version: "2.31.0" });
  });

  test.each([
    ["Flask>=2.0,<3", [[">=", "2.0"], ["<", "3"]]],
    ["django~=4.2", [["~=", "4.2"]]],
    ["x!=1.5", [["!=", "1.5"]]],
    ["x==1.*", [["==", "1.*"]]], // a wildcard is a range, not a pin
    ["x!=2.1.*", [["!=", "2.1.*"]]],
    ["x >= 1.0 , < 2 , != 1.5.1", [[">=", "1.0"], ["<", "2"], ["!=", "1.5.1"]]],
    ["x (>=1.0, <2)", [[">=", "1.0"], ["<", "2"]]],
    ["x>1.0a1", [[">", "1.0a1"]]],
    ["x==1.0,!=1.0.1", [["==", "1.0"], ["!=", "1.0.1"]]], // two specifiers: not a plain pin
    ["x<=v2.0", [["<=", "v2.0"]]],
    ["x", []],
  ])("%s has specifiers %j", (line, specs) => {
    expect(one(line)).toMatchObject({ kind: "specifier", specifiers: specs.map(([operator, version]) => ({ operator, version })) });
  });

  test("extras are parsed and normalised", () => {
    expect(one("Celery[Redis, msgpack]>=5")).toMatchObject({ name: "celery", extras: ["redis", "msgpack"], specifiers: [{ operator: ">=", version: "5" }] });
    expect(one("celery [redis]")).toMatchObject({ kind: "specifier", extras: ["redis"], specifiers: [] });
    expect(one("celery[]==5.0")).toMatchObject({ kind: "pinned", extras: [] });
  });

  test.each([
    ["foo @ https://example.com/foo-1.0.tar.gz", "foo", "https://example.com/foo-1.0.tar.gz"],
    ["foo@https://example.com/foo-1.0-py3-none-any.whl", "foo", "https://example.com/foo-1.0-py3-none-any.whl"],
    ["foo @ file:///srv/wheels/foo-1.0-py3-none-any.whl", "foo", "file:///srv/wheels/foo-1.0-py3-none-any.whl"],
    ["My_Pkg @ git+https://github.com/me/pkg.git@v1.2#egg=My_Pkg", "my-pkg", "git+https://github.com/me/pkg.git@v1.2#egg=My_Pkg"],
    ["pkg @ git+ssh://git@github.com/me/pkg.git@0123abc#subdirectory=py", "pkg", "git+ssh://git@github.com/me/pkg.git@0123abc#subdirectory=py"],
  ])("%s is a URL requirement", (line, name, url) => {
    expect(one(line)).toEqual(expect.objectContaining({ kind: "url", name, url, hashes: [] }));
  });

  test("a URL requirement takes extras and a marker (after whitespace)", () => {
    expect(one('foo[bar] @ https://example.com/foo.zip ; python_version >= "3.9"')).toMatchObject({
      kind: "url",
      extras: ["bar"],
      url: "https://example.com/foo.zip",
      marker: 'python_version >= "3.9"',
    });
  });

  test("a bare URL is named by its #egg= or wheel file name", () => {
    expect(one("https://example.com/dl/pkg.zip#egg=Some_Pkg")).toMatchObject({ kind: "url", name: "some-pkg", originalName: "Some_Pkg", url: "https://example.com/dl/pkg.zip#egg=Some_Pkg" });
    expect(one("https://example.com/dl/Some_Pkg-1.0-py3-none-any.whl")).toMatchObject({ kind: "url", name: "some-pkg" });
    expect(one("git+https://example.com/r.git@main#egg=pkg[ex] ; os_name == 'posix'")).toMatchObject({ name: "pkg", extras: ["ex"], marker: "os_name == 'posix'" });
  });

  test.each([
    ['foo; python_version < "3.8"', 'python_version < "3.8"'],
    ['foo==1.0 ; sys_platform == "linux" and platform_machine == "x86_64"', 'sys_platform == "linux" and platform_machine == "x86_64"'],
    ["foo>=1;(os_name=='nt' or sys_platform=='darwin') and python_full_version>='3.9.1'", "(os_name=='nt' or sys_platform=='darwin') and python_full_version>='3.9.1'"],
    ["foo; 'linux' in sys_platform", "'linux' in sys_platform"],
    ['foo; platform_release not in "5.0"', 'platform_release not in "5.0"'],
    ['foo[x]; extra == "x"', 'extra == "x"'],
    ['foo; os.name == "posix"', 'os.name == "posix"'],
  ])("%s keeps its marker", (line, marker) => {
    expect(one(line)).toMatchObject({ marker });
  });

  test("hashes are collected, in either option spelling, across continuations", () => {
    expect(one(`foo==1.0 --hash=${SHA_A} --hash ${SHA_B}`)).toMatchObject({ kind: "pinned", hashes: [SHA_A, SHA_B] });
    expect(one(`foo==1.0 ; python_version>"3" --hash=sha512:${"c".repeat(128)}`)).toMatchObject({ marker: 'python_version>"3"', hashes: [`sha512:${"c".repeat(128)}`] });
  });
});

describe("editable lines", () => {
  test.each([
    ["-e git+https://github.com/me/app.git@main#egg=My_App", { target: "git+https://github.com/me/app.git@main#egg=My_App", name: "my-app", originalName: "My_App", extras: [] }],
    ["--editable=git+https://x.org/r.git#subdirectory=src&egg=pkg[dev]", { target: "git+https://x.org/r.git#subdirectory=src&egg=pkg[dev]", name: "pkg", originalName: "pkg", extras: ["dev"] }],
    ["-e .", { target: ".", extras: [] }],
    ["--editable ./libs/core", { target: "./libs/core", extras: [] }],
    ["-e ./pkg[Dev,test]", { target: "./pkg[Dev,test]", extras: ["dev", "test"] }],
    ["-e/abs/path", { target: "/abs/path", extras: [] }],
    ["-e file:///srv/src/pkg#egg=pkg", { target: "file:///srv/src/pkg#egg=pkg", name: "pkg", originalName: "pkg", extras: [] }],
  ])("%s", (line, expected) => {
    expect(one(line)).toEqual({ kind: "editable", ...expected });
  });
});

describe("option lines", () => {
  test.each([
    ["--index-url https://pypi.example/simple", "--index-url", "https://pypi.example/simple"],
    ["--index-url=https://pypi.example/simple", "--index-url", "https://pypi.example/simple"],
    ["-i https://pypi.example/simple", "--index-url", "https://pypi.example/simple"],
    ["-ihttps://pypi.example/simple", "--index-url", "https://pypi.example/simple"],
    ["--extra-index-url https://extra.example/simple", "--extra-index-url", "https://extra.example/simple"],
    ["--find-links ./wheels", "--find-links", "./wheels"],
    ["-f https://example.com/wheels/", "--find-links", "https://example.com/wheels/"],
    ["--no-index", "--no-index", undefined],
    ["--trusted-host pypi.example", "--trusted-host", "pypi.example"],
    ["-r base.txt", "--requirement", "base.txt"],
    ["--requirement=base.txt", "--requirement", "base.txt"],
    ["-c constraints.txt", "--constraint", "constraints.txt"],
    ["--pre", "--pre", undefined],
    ["--prefer-binary", "--prefer-binary", undefined],
    ["--require-hashes", "--require-hashes", undefined],
    ["--only-binary :all:", "--only-binary", ":all:"],
    ["--no-binary psycopg2", "--no-binary", "psycopg2"],
    ["--use-feature truststore", "--use-feature", "truststore"],
  ])("%s", (line, option, value) => {
    expect(one(line)).toEqual(value === undefined ? { kind: "option", option } : { kind: "option", option, value });
  });

  test("several options on one line become several entries of that line", () => {
    const all = entries("\n-i https://a.example/simple --no-index --trusted-host a.example\n");
    expect(all.map((e) => [e.line, e.kind === "option" && e.option])).toEqual([
      [2, "--index-url"],
      [2, "--no-index"],
      [2, "--trusted-host"],
    ]);
  });
});

describe("comments, blank lines and continuations", () => {
  test("full-line and trailing comments and blank lines are skipped", () => {
    const all = entries("# top\n\n   \nfoo==1.0  # pinned for #123\n\t# indented comment\nbar>=2 # why\n");
    expect(all.map((e) => [e.line, e.raw])).toEqual([
      [4, "foo==1.0"],
      [6, "bar>=2"],
    ]);
  });

  test("a # inside a URL is not a comment; one after whitespace is", () => {
    expect(one("-e git+https://x.org/r.git#egg=pkg # a comment")).toMatchObject({ target: "git+https://x.org/r.git#egg=pkg", name: "pkg" });
    expect(one("pkg @ https://x.org/p.zip#sha256=abc #comment")).toMatchObject({ url: "https://x.org/p.zip#sha256=abc" });
  });

  test("CRLF, lone CR and a byte order mark are handled", () => {
    const all = entries("\uFEFFfoo==1\r\nbar==2\rbaz==3\r\n");
    expect(all.map((e) => [e.line, e.kind === "pinned" && e.name])).toEqual([
      [1, "foo"],
      [2, "bar"],
      [3, "baz"],
    ]);
  });

  test("a trailing backslash joins lines; the entry has the first line's number", () => {
    const all = entries(`first==1\nfoo==1.0 \\\n    --hash=${SHA_A} \\\n    --hash=${SHA_B}\n    # via -r requirements.in\nbar==2\n`);
    expect(all.map((e) => e.line)).toEqual([1, 2, 6]);
    expect(all[1]).toMatchObject({ name: "foo", hashes: [SHA_A, SHA_B] });
  });

  test("a continuation may split a requirement anywhere, as pip joins without a space", () => {
    expect(one("Djan\\\ngo>=4.2,\\\n<5")).toMatchObject({ name: "django", specifiers: [{ operator: ">=", version: "4.2" }, { operator: "<", version: "5" }] });
  });

  test("a comment line ends a continuation", () => {
    const all = entries("foo==1.0 \\\n# comment\nbar==2\n");
    expect(all.map((e) => [e.line, e.raw])).toEqual([
      [1, "foo==1.0"],
      [3, "bar==2"],
    ]);
  });

  test("a backslash on the last line is dropped", () => {
    expect(entries("foo==1.0 \\").map((e) => e.raw)).toEqual(["foo==1.0"]);
  });

  test("an empty file has no entries and no errors", () => {
    expect(parseRequirements("")).toEqual({ entries: [], errors: [] });
    expect(parseRequirements("\n# only comments\n\n")).toEqual({ entries: [], errors: [] });
  });
});

describe("errors", () => {
  // Each case sits on line 4, after a valid line, a blank line and a comment.
  const prefix = "ok==1.0\n\n# comment\n";
  test.each([
    ["flask=>2", `"flask=>2" is not a valid requirement: "=>" is not a version operator; did you mean ">="?`],
    ["flask=<2", `"flask=<2" is not a valid requirement: "=<" is not a version operator; did you mean "<="?`],
    ["flask=2.0", `"flask=2.0" is not a valid requirement: "=" is not a version operator; did you mean "=="?`],
    ["flask<>2.0", `"flask<>2.0" is not a valid requirement: "<>" is not a version operator; did you mean "!="?`],
    ["flask 2.0", `"flask 2.0" is not a valid requirement: expected a version specifier like ">=1.0" but found "2.0"`],
    ["flask requests", `"flask requests" is not a valid requirement: expected a version specifier like ">=1.0" but found "requests"`],
    ["flask==", `"flask==" is not a valid requirement: "==" needs a version after it`],
    ["flask==two", `"flask==two" is not a valid requirement: "two" is not a valid PEP 440 version`],
    ["flask>=1.0,", `"flask>=1.0," is not a valid requirement: empty version specifier (stray comma?)`],
    ["flask==1.0#x", `"flask==1.0#x" is not a valid requirement: "1.0#x" is not a valid PEP 440 version`],
    ["flask>=1.*", `"flask>=1.*" is not a valid requirement: a ".*" wildcard is only allowed with == and !=`],
    ["flask==1.0a1.*", `"flask==1.0a1.*" is not a valid requirement: "1.0a1.*": ".*" must follow a plain release, like "1.2.*"`],
    ["flask~=2", `"flask~=2" is not a valid requirement: "~=" needs at least two release segments, like "~=1.4"`],
    ["flask<1.0+local", `"flask<1.0+local" is not a valid requirement: a local version label ("1.0+local") is only allowed with == and !=`],
    ["flask (>=1.0", `"flask (>=1.0" is not a valid requirement: missing ")" after the version specifiers`],
    ["flask[async", `"flask[async" is not a valid requirement: missing "]" after the extras`],
    ["flask[as ync]", `"flask[as ync]" is not a valid requirement: extra "as ync" is not a valid name`],
    ["_flask==1", `"_flask==1" is not a valid requirement: it must start with a package name`],
    ["flask;", `"flask;" is not a valid requirement: marker "": empty marker after ";"`],
    ['flask; python_verion < "3.8"', `'flask; python_verion < "3.8"' is not a valid requirement: marker 'python_verion < "3.8"': "python_verion" is not a marker variable or a quoted string`],
    ['flask; python_version < "3.8', `'flask; python_version < "3.8' is not a valid requirement: marker 'python_version < "3.8': unterminated string "3.8`],
    ['flask; python_version = "3.8"', `'flask; python_version = "3.8"' is not a valid requirement: marker 'python_version = "3.8"': "=" is not a marker operator`],
    ['flask; python_version < "3" and', `'flask; python_version < "3" and' is not a valid requirement: marker 'python_version < "3" and': it ends too soon`],
    ['flask; (os_name == "nt"', `'flask; (os_name == "nt"' is not a valid requirement: marker '(os_name == "nt"': missing ")"`],
    ['flask; os_name == "nt" os_name', `'flask; os_name == "nt" os_name' is not a valid requirement: marker 'os_name == "nt" os_name': unexpected "os_name"`],
    ["flask @", `"flask @" is not a valid requirement: expected a URL after "@"`],
    ["flask @ ./local/dir", `"flask @ ./local/dir" is not a valid requirement: "./local/dir" is not a URL (it needs a scheme such as https://, file:// or git+https://)`],
    ['flask @ https://x.org/f.zip extra', `"flask @ https://x.org/f.zip extra" is not a valid requirement: unexpected "extra" after the URL (a marker needs " ; " before it)`],
    ["https://x.org/dl/archive.zip", `"https://x.org/dl/archive.zip" is not a valid requirement: a URL needs a package name: write "name @ https://x.org/dl/archive.zip"`],
    ["./local/project", `"./local/project" is not a valid requirement: a bare path has no package name; write it as "name @ file:///absolute/path"`],
    ["dist/foo-1.0.tar.gz", `"dist/foo-1.0.tar.gz" is not a valid requirement: a bare path has no package name; write it as "name @ file:///absolute/path"`],
    ["https://x.org/p.zip#egg=not/a/name", `"https://x.org/p.zip#egg=not/a/name" is not a valid requirement: #egg= must be a package name, not "not/a/name"`],
    ["flask==1.0 --hash=md5:abc", `--hash=md5:abc is not a valid hash: use sha256:, sha384: or sha512: followed by the lowercase hex digest`],
    [`flask==1.0 --hash=sha256:${"A".repeat(64)}`, `--hash=sha256:${"A".repeat(64)} is not a valid hash: use sha256:, sha384: or sha512: followed by the lowercase hex digest`],
    ["flask==1.0 --hash=constructor:abc", `--hash=constructor:abc is not a valid hash: use sha256:, sha384: or sha512: followed by the lowercase hex digest`],
    ["flask==1.0 --hash=sha256:abc", `--hash=sha256:abc is not a valid hash: use sha256:, sha384: or sha512: followed by the lowercase hex digest`],
    ["flask==1.0 --hash", `--hash needs a value`],
    ["flask==1.0 --index-url https://x", `unknown option "--index-url" after requirement "flask==1.0" (only --hash may follow one)`],
    ["flask==1.0 --config-settings=a=b", `--config-settings on a requirement line is not supported`],
    [`--hash=${SHA_A}`, `"--hash=${SHA_A}" is not attached to a requirement; end the line before it with "\\" to continue it`],
    [`--pre --hash=${SHA_A}`, `--hash can only follow a requirement like name==1.0`],
    ["--index-url", `--index-url needs a value`],
    ["-i", `-i needs a value`],
    ["--no-index=yes", `--no-index takes no value`],
    ["--pre please", `unexpected "please" in option line "--pre please"`],
    ["--upgrade", `unknown option "--upgrade" in option line "--upgrade"`],
    ["-x foo", `unknown option "-x" in option line "-x foo"`],
    ["-e", `-e needs a value`],
    ["-e . --pre", `-e takes one path or URL and nothing else on its line: "-e . --pre"`],
    ["-e https://x.org/pkg.zip", `"-e https://x.org/pkg.zip" is not a valid editable requirement: an editable URL must be a VCS URL (git+, hg+, svn+, bzr+) or a file: URL`],
    ["-e git+https://x.org/r.git#egg=a b", `unexpected "b" in option line "-e git+https://x.org/r.git#egg=a b"`],
    ["-e git+https://x.org/r.git#egg=-bad", `"-e git+https://x.org/r.git#egg=-bad" is not a valid editable requirement: #egg=-bad: it must start with a package name`],
    ["-e ./pkg[a,-b]", `"-e ./pkg[a,-b]" is not a valid editable requirement: extra "-b" is not a valid name`],
  ])("%s", (bad, message) => {
    const parsed = parseRequirements(`${prefix}${bad}\nafter==2.0\n`);
    expect(parsed.errors).toEqual([{ line: 4, raw: bad, message: `line 4: ${message}` }]);
    // Other lines still parse: an error costs only its own line.
    expect(parsed.entries.map((e) => e.line)).toEqual([1, 5]);
  });

  test("errors report the first physical line of a continued line, and every bad line is reported", () => {
    const text = ["good==1", "bad=>1 \\", `  --hash=${SHA_A}`, "", "also==1", `  --hash=${SHA_B}`, "worse===", "good2==2"].join("\n");
    const parsed = parseRequirements(text);
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 6, 7]);
    expect(parsed.errors[0]!.message).toMatch(/^line 2: "bad=>1" is not a valid requirement/);
    expect(parsed.errors[1]!.message).toMatch(/^line 6: .* is not attached to a requirement/);
    expect(parsed.errors[2]!.message).toBe(`line 7: "worse===" is not a valid requirement: "===" needs a version after it`);
    expect(parsed.entries.map((e) => e.line)).toEqual([1, 5, 8]);
  });
});

describe("packagesFromEntries", () => {
  test("maps normalised names to pins and sources, sorted, skipping ranges and options", () => {
    const text = [
      "--index-url https://pypi.example/simple",
      "Zope.Interface==6.1",
      "Django==4.2.7",
      "flask>=2",
      "my_lib @ https://example.com/my_lib-1.0-py3-none-any.whl",
      "-e git+https://example.com/app.git@main#egg=App",
      "-e ./local",
      "legacy===1.0-x",
    ].join("\n");
    const packages = packagesFromEntries(entries(text));
    expect(packages).toEqual({
      "./local": "@ ./local",
      app: "@ git+https://example.com/app.git@main#egg=App",
      django: "4.2.7",
      legacy: "1.0-x",
      "my-lib": "@ https://example.com/my_lib-1.0-py3-none-any.whl",
      "zope-interface": "6.1",
    });
    expect(Object.keys(packages)).toEqual(["./local", "app", "django", "legacy", "my-lib", "zope-interface"]);
  });

  test("a repeated name keeps the last entry", () => {
    expect(packagesFromEntries(entries('foo==1; python_version<"3.9"\nFoo==2; python_version>="3.9"'))).toEqual({ foo: "2" });
  });

  test("a pip freeze reads as its pins", () => {
    const freeze = "blinker==1.7.0\nclick==8.1.7\nFlask==3.0.0\nitsdangerous==2.1.2\nJinja2==3.1.2\nMarkupSafe==2.1.3\nWerkzeug==3.0.1\n";
    expect(packagesFromEntries(entries(freeze))).toEqual({
      blinker: "1.7.0",
      click: "8.1.7",
      flask: "3.0.0",
      itsdangerous: "2.1.2",
      jinja2: "3.1.2",
      markupsafe: "2.1.3",
      werkzeug: "3.0.1",
    });
  });
});

describe("renderRequirements", () => {
  const fixture = [
    "# header comment",
    "--index-url https://pypi.example/simple",
    "-i https://pypi.example/simple --pre",
    "Flask_Login[Security, Dev] >= 0.6 , < 1 ; python_version >= '3.8'  # comment",
    `requests==2.31.0 \\`,
    `    --hash=${SHA_A} \\`,
    `    --hash ${SHA_B}`,
    "foo@https://x.org/foo.zip",
    "https://x.org/dl/Some_Pkg-1.0-py3-none-any.whl",
    "-e git+https://x.org/app.git#egg=app[extra]",
    "--editable=.",
    "legacy===1.0-x",
    "x (>=1, !=1.5.*)",
    "",
  ].join("\n");

  test("writes one canonical line per entry", () => {
    expect(renderRequirements(entries(fixture))).toBe(
      [
        "--index-url https://pypi.example/simple",
        "--index-url https://pypi.example/simple",
        "--pre",
        "Flask_Login[security,dev]>=0.6,<1 ; python_version >= '3.8'",
        `requests==2.31.0 \\`,
        `    --hash=${SHA_A} \\`,
        `    --hash=${SHA_B}`,
        "foo @ https://x.org/foo.zip",
        "Some_Pkg @ https://x.org/dl/Some_Pkg-1.0-py3-none-any.whl",
        "-e git+https://x.org/app.git#egg=app[extra]",
        "-e .",
        "legacy===1.0-x",
        "x>=1,!=1.5.*",
        "",
      ].join("\n"),
    );
  });

  test("parse(render(parse(x))) equals parse(x) apart from line and raw", () => {
    const first = entries(fixture);
    expect(entries(renderRequirements(first)).map(withoutPlace)).toEqual(first.map(withoutPlace));
  });

  test("an empty list renders as an empty file", () => {
    expect(renderRequirements([])).toBe("");
  });
});

// Generated requirement files, written with the freedoms pip allows (spacing, case, comments,
// continuations), must parse without errors and survive a render/parse round trip.
const name = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,8}[A-Za-z0-9])?$/);
const version = fc
  .tuple(fc.array(fc.nat(30), { minLength: 1, maxLength: 3 }), fc.constantFrom("", "a1", "rc2", ".post1", ".dev3", "+local.1"))
  .map(([release, suffix]) => release.join(".") + suffix);
const plainVersion = fc.array(fc.nat(30), { minLength: 2, maxLength: 3 }).map((r) => r.join("."));
const ws = fc.constantFrom("", " ", "  ");
const extras = fc.option(fc.array(name, { maxLength: 2 }).map((xs) => `[${xs.join(", ")}]`), { nil: "" });
const marker = fc.option(
  fc.constantFrom('python_version >= "3.8"', "sys_platform == 'linux'", '(os_name == "nt" or os_name == "posix") and extra == "x"', "'arm' not in platform_machine"),
  { nil: undefined },
);
const hashes = fc.array(fc.constantFrom(SHA_A, SHA_B, `sha384:${"0".repeat(96)}`), { maxLength: 3 });
const specifier = fc.oneof(
  plainVersion.map((v) => `~=${v}`),
  version.map((v) => `==${v}`),
  version.filter((v) => !v.includes("+")).chain((v) => fc.constantFrom(`>=${v}`, `<${v}`, `!=${v}`, `<= ${v}`, `>${v}`)),
  plainVersion.map((v) => `==${v}.*`),
);
const requirementLine = fc.oneof(
  fc.record({ n: name, x: extras, w: ws, v: version, m: marker, h: hashes }).map((r) => ({ text: `${r.n}${r.x}${r.w}==${r.w}${r.v}`, m: r.m, h: r.h })),
  fc.record({ n: name, x: extras, s: fc.array(specifier, { maxLength: 3 }), m: marker, h: hashes }).map((r) => ({ text: `${r.n}${r.x}${r.s.join(" , ")}`, m: r.m, h: r.h })),
  fc.record({ n: name, x: extras, m: marker, path: name }).map((r) => ({ text: `${r.n}${r.x} @ https://files.example/${r.path}.whl`, m: r.m, h: [] as string[], url: true })),
);
const line = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(requirementLine, fc.boolean()).map(([r, split]) => {
    const marked = r.m === undefined ? r.text : `${r.text}${"url" in r ? " " : ""}; ${r.m}`;
    // Hashes either inline or pip-compile style on continuation lines.
    return [marked, ...r.h.map((h) => `--hash=${h}`)].join(split ? " \\\n    " : " ");
  }) },
  { weight: 1, arbitrary: name.map((n) => `-e git+https://git.example/${n}.git@main#egg=${n}`) },
  { weight: 1, arbitrary: fc.constantFrom("--index-url https://pypi.example/simple", "-i https://a.example", "--no-index", "--pre", "-f ./wheels", "--find-links=https://w.example/", "--trusted-host h.example", "-r base.txt", "-c c.txt", "--extra-index-url=https://e.example/simple") },
);
const decoratedLine = fc.tuple(line, fc.constantFrom("", "  # trailing comment", "\t#x"), fc.constantFrom("", "\n", "\n# comment\n", "\n   \n")).map(([l, comment, gap]) => `${gap}${l}${comment}`);

describe("generated requirement files", () => {
  test("parse without errors, one entry per line, and round-trip through render", () => {
    fc.assert(
      fc.property(fc.array(decoratedLine, { maxLength: 12 }), fc.constantFrom("\n", "\r\n"), (lines, eol) => {
        const text = lines.join("\n").replace(/\n/g, eol);
        const first = entries(text);
        expect(first).toHaveLength(lines.length);
        for (const e of first) if ("name" in e && e.name !== undefined) expect(e.name).toBe(normalizeName(e.name));
        const rendered = renderRequirements(first);
        expect(entries(rendered).map(withoutPlace)).toEqual(first.map(withoutPlace));
        expect(renderRequirements(entries(rendered))).toBe(rendered); // rendering is a fixed point
      }),
    );
  });

  test("line numbers point at the physical line each entry starts on", () => {
    fc.assert(
      fc.property(fc.array(decoratedLine, { maxLength: 12 }), (lines) => {
        const text = lines.join("\n");
        const physical = text.split("\n");
        // The first token, not a fixed prefix: `raw` has pip's join spacing after a backslash.
        for (const e of entries(text)) expect(physical[e.line - 1]!.trim().startsWith(e.raw.trim().split(/\s+/)[0]!)).toBe(true);
      }),
    );
  });
});
