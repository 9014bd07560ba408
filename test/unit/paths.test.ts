import { homePathProblem, slug, toHomeRelative } from "../../lib/paths";

describe("home confinement", () => {
  test.each([
    ["public", "public"],
    ["private/venv", "private/venv"],
    ["./public/", "public"],
    ["/home/u/public", "public"],
    ["a/../b", "b"],
  ])("%j is inside the home as %j", (input, expected) => {
    expect(toHomeRelative(input, "/home/u")).toBe(expected);
    expect(homePathProblem(input, "/home/u")).toBeUndefined();
  });

  test.each([
    ["../etc", "must stay inside the home directory /home/u"],
    ["/etc/passwd", "must stay inside the home directory /home/u"],
    ["/home/uu/x", "must stay inside the home directory /home/u"],
    ["public/../../x", "must stay inside the home directory /home/u"],
    ["", "must not be empty"],
    [".", "must name a path below the home directory, not the home itself"],
    ["a\nb", "must not contain NUL or line breaks"],
  ])("%j is refused: %s", (input, problem) => {
    expect(homePathProblem(input, "/home/u")).toBe(problem);
  });

  test("slug is filesystem-safe", () => {
    expect(slug("demo/app/venv")).toBe("demo-app-venv");
    expect(slug("../$(x)")).toBe("x");
  });
});
