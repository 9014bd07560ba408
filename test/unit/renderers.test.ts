import { renderApacheConfig } from "../../lib/render/apache-config";
import { renderEntryPoint } from "../../lib/render/entry-point";

const base = {
  unit: "demo/blog",
  home: "/home/wwwshare",
  appDir: "public",
  entryPoint: "public/wwwshare.wsgi",
  venvPath: "private/venv",
  mount: "/",
  staticDirs: {},
  daemon: { name: "webshare-demo-blog", processes: 2, threads: 15 },
};

describe("renderApacheConfig", () => {
  test("daemon mode: python-home is the venv ROOT and python-path the app dir", () => {
    const text = renderApacheConfig(base);
    expect(text).toContain(
      "WSGIDaemonProcess webshare-demo-blog python-home=/home/wwwshare/private/venv python-path=/home/wwwshare/public processes=2 threads=15 display-name=%{GROUP}",
    );
    expect(text).not.toMatch(/python-home=\S*bin\/python/);
    expect(text).toContain("WSGIScriptAlias / /home/wwwshare/public/wwwshare.wsgi process-group=webshare-demo-blog application-group=%{GLOBAL}");
    expect(text).toContain("<Directory /home/wwwshare/public>\n    Require all granted\n</Directory>");
  });

  test("static dirs become Alias lines with their own Directory blocks, before the script alias", () => {
    const text = renderApacheConfig({ ...base, mount: "/blog", staticDirs: { "/static": "static", "/media": "files/media" } });
    expect(text).toContain("Alias /static /home/wwwshare/public/static\n<Directory /home/wwwshare/public/static>\n    Require all granted\n</Directory>");
    expect(text).toContain("Alias /media /home/wwwshare/public/files/media");
    expect(text.indexOf("Alias /media")).toBeLessThan(text.indexOf("WSGIScriptAlias"));
    expect(text).toContain("WSGIScriptAlias /blog /home/wwwshare/public/wwwshare.wsgi");
  });

  test("optional daemon options appear only when set", () => {
    const text = renderApacheConfig({ ...base, daemon: { ...base.daemon, maximumRequests: 200, displayName: "blog", user: "wwwshare", group: "wwwshare" } });
    expect(text).toContain("maximum-requests=200 display-name=blog user=wwwshare group=wwwshare");
    expect(renderApacheConfig(base)).not.toContain("maximum-requests");
  });

  test("mod_wsgi timeouts, lang and locale appear only when set", () => {
    const text = renderApacheConfig({ ...base, daemon: { ...base.daemon, maximumRequests: 200, startupTimeout: 15, requestTimeout: 60, gracefulTimeout: 5, lang: "C.UTF-8", locale: "en_US.UTF-8" } });
    expect(text).toContain(
      "processes=2 threads=15 maximum-requests=200 startup-timeout=15 request-timeout=60 graceful-timeout=5 display-name=%{GROUP} lang=C.UTF-8 locale=en_US.UTF-8\n",
    );
    for (const [field, option] of [["startupTimeout", "startup-timeout=7"], ["requestTimeout", "request-timeout=7"], ["gracefulTimeout", "graceful-timeout=7"]] as const) {
      expect(renderApacheConfig({ ...base, daemon: { ...base.daemon, [field]: 7 } })).toContain(` ${option} `);
    }
    expect(renderApacheConfig({ ...base, daemon: { ...base.daemon, lang: "de_DE@euro" } })).toMatch(/ lang=de_DE@euro\n/);
    expect(renderApacheConfig({ ...base, daemon: { ...base.daemon, locale: "C.UTF-8" } })).toMatch(/ locale=C\.UTF-8\n/);
    expect(renderApacheConfig(base)).not.toMatch(/timeout|lang=|locale=/);
  });

  test("managed: the snippet runs the daemon as the deploy user, so the hoster's root Apache can apply it verbatim", () => {
    const managed = renderApacheConfig({ ...base, managed: { deployUser: "wwwshare" } });
    expect(managed).toMatch(/^WSGIDaemonProcess webshare-demo-blog .* display-name=%\{GROUP\} user=wwwshare group=wwwshare$/m);
    expect(managed).not.toContain("<deploy user>");
    // daemon.group overrides the user-named group; daemon.user (another user) wins over the deploy user.
    expect(renderApacheConfig({ ...base, daemon: { ...base.daemon, group: "web" }, managed: { deployUser: "wwwshare" } })).toMatch(/ user=wwwshare group=web$/m);
    expect(renderApacheConfig({ ...base, daemon: { ...base.daemon, user: "app" }, managed: { deployUser: "wwwshare" } })).toMatch(/ display-name=%\{GROUP\} user=app$/m);
    // Self-managed: Apache runs as the user and cannot switch, so no user=.
    expect(renderApacheConfig(base)).not.toMatch(/user=|<deploy user>/);
  });

  test("managed without a known deploy user (an ssh config alias gives it): a comment asks the hoster to add it", () => {
    const text = renderApacheConfig({ ...base, managed: {} });
    expect(text).toContain("# The deploy user is not known here (the ssh config gives it): add user=<deploy user> group=<its group>\n# to WSGIDaemonProcess below");
    expect(text).toMatch(/^WSGIDaemonProcess webshare-demo-blog .* display-name=%\{GROUP\}$/m);
    expect(text.indexOf("<deploy user>")).toBeLessThan(text.indexOf("WSGIDaemonProcess"));
  });

  test("paths with spaces are quoted; quotes are refused", () => {
    expect(renderApacheConfig({ ...base, home: "/home/with space" })).toContain('"python-home=/home/with space/private/venv"');
    expect(() => renderApacheConfig({ ...base, home: '/home/a"b' })).toThrow(/not allowed in Apache config/);
  });
});

describe("renderEntryPoint", () => {
  test("assigns the callable to application and pins imports to the release dir", () => {
    const text = renderEntryPoint({ unit: "demo/blog", module: "blog.wsgi", callable: "app", environment: {} });
    expect(text).toContain("from blog.wsgi import app as _webshare_app");
    expect(text).toContain("def application(environ, start_response):");
    expect(text).toContain("APP_DIR = os.path.dirname(os.path.realpath(__file__))");
    expect(text).not.toContain("os.environ[");
  });

  test("environment values become safe Python string literals", () => {
    const text = renderEntryPoint({ unit: "u", module: "app", callable: "app", environment: { B: 'quote " and \\ and\nnewline', A: "x" } });
    expect(text).toContain('os.environ["A"] = "x"\nos.environ["B"] = "quote \\" and \\\\ and\\nnewline"');
  });
});
