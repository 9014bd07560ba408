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
