import { countLogins, parseTimeReport } from "../../bench/fleet-ssh";

/** `npm run bench:fleet-ssh` reads /usr/bin/time's report and the hosts' sshd logs. */
describe("bench:fleet-ssh parsing", () => {
  test("local CPU is user + system of the report's last line, also after a non-zero exit", () => {
    expect(parseTimeReport("12.34 5.10 1.25\n")).toEqual({ seconds: 12.34, cpuSeconds: 6.35 });
    expect(parseTimeReport("Command exited with non-zero status 1\n3.00 0.50 0.20\n")).toEqual({ seconds: 3, cpuSeconds: 0.7 });
  });

  test("a report that is not three numbers is an error, not zeros", () => {
    expect(() => parseTimeReport("Command terminated by signal 9\n")).toThrow(/not a "%e %U %S" line/);
  });

  test("logins count only the given user's accepted keys", () => {
    const log = [
      "Accepted publickey for wsfleetself1 from 127.0.0.1 port 40000 ssh2: ED25519 SHA256:x",
      "Accepted publickey for wsfleetself10 from 127.0.0.1 port 40001 ssh2: ED25519 SHA256:x",
      "Failed publickey for wsfleetself1 from 127.0.0.1 port 40002 ssh2",
      "Accepted publickey for wsfleetself1 from 127.0.0.1 port 40003 ssh2: ED25519 SHA256:x",
    ].join("\n");
    expect(countLogins(log, "wsfleetself1")).toBe(2);
    expect(countLogins("", "wsfleetself1")).toBe(0);
  });
});
