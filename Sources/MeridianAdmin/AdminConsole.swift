import Foundation

/// The web console's two pages. Plain HTML and script, no outside assets: the console works
/// on a cluster without internet access. The console page reads the JSON API every 2 s with
/// the session cookie; the login page is all a browser without a valid token gets.
enum AdminConsole {
    static func loginPage(error: String?) -> String {
        let message = error.map { "<p class=\"error\" id=\"login-error\">\(escape($0))</p>" } ?? ""
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Meridian — sign in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>\(style)</style></head>
        <body class="login">
        <form id="login" method="post" action="/login">
          <h1>Meridian</h1>
          <p>Sign in with an admin token.</p>
          \(message)
          <input id="token" name="token" type="password" autocomplete="off" placeholder="mrd_…" autofocus required>
          <button type="submit">Sign in</button>
        </form>
        <script>
        // A link of the form http://node:port/#token=… (printed by `meridian local`) signs in at
        // once; the fragment never reaches a server or its logs.
        const match = location.hash.match(/^#token=([A-Za-z0-9_\\-]+)$/);
        if (match) {
          history.replaceState(null, "", "/");
          document.getElementById("token").value = match[1];
          document.getElementById("login").submit();
        }
        </script>
        </body></html>
        """
    }

    static let consolePage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Meridian console</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>\(style)</style></head>
        <body>
        <header><h1>Meridian <span id="cluster-name"></span></h1>
          <span id="whoami"></span>
          <form method="post" action="/logout"><button type="submit">Sign out</button></form></header>
        <p id="status" class="muted">loading…</p>
        <section><h2>Cluster</h2><div id="overview"></div></section>
        <section><h2>Live matches</h2><div id="matches"></div></section>
        <section><h2>Queues</h2><div id="queues"></div></section>
        <section><h2>Player lookup</h2>
          <form id="player-form"><input id="player-id" placeholder="player id (UUID)" size="40" required>
          <button type="submit">Look up</button></form>
          <div id="player"></div></section>
        <script>
        "use strict";
        const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
        const table = (headers, rows) => "<table><thead><tr>" + headers.map((h) => "<th>" + esc(h) + "</th>").join("") +
          "</tr></thead><tbody>" + rows.join("") + "</tbody></table>";
        async function get(path) {
          const response = await fetch(path, {credentials: "same-origin", cache: "no-store"});
          if (response.status === 401) { location.reload(); throw new Error("signed out"); }
          const body = await response.json();
          if (!response.ok) throw new Error(body.error || response.statusText);
          return body;
        }
        function phases(byPhase) {
          return Object.keys(byPhase || {}).sort().map((p) => esc(p) + " " + byPhase[p]).join(", ") || "—";
        }
        function renderCluster(cluster) {
          document.getElementById("cluster-name").textContent = cluster.cluster;
          const regions = [...new Set(cluster.nodes.map((n) => n.region))].sort();
          document.getElementById("overview").innerHTML = regions.map((region) => {
            const nodes = cluster.nodes.filter((n) => n.region === region);
            const online = nodes.reduce((sum, n) => sum + (n.figures ? n.figures.onlineClients : 0), 0);
            const rows = nodes.map((n) => {
              const f = n.figures;
              return '<tr data-node="' + esc(n.node) + '" data-state="' + esc(n.state) + '"><td>' + esc(n.node) + '</td><td class="state ' + esc(n.state) + '">' + esc(n.state) +
                "</td><td>" + esc(n.incarnation) + "</td><td>" + (f ? esc(f.topologyVersion) : "—") + "</td><td>" + (f ? esc(f.catalogVersion) : "—") +
                "</td><td>" + (f ? esc(f.onlineClients) : "—") + "</td><td>" + (f ? phases(f.matchesByPhase) : "—") +
                "</td><td>" + (f ? (f.tickP99Microseconds / 1000).toFixed(2) + " ms" : "—") + "</td></tr>";
            });
            return '<h3 data-region="' + esc(region) + '">' + esc(region) + ' <span class="muted">' + online + " online</span></h3>" +
              table(["node", "state", "incarnation", "topology", "catalog", "online", "matches", "tick p99"], rows);
          }).join("");
        }
        function renderMatches(matches) {
          matches.sort((a, b) => a.region.localeCompare(b.region) || a.node.localeCompare(b.node) || a.matchID.localeCompare(b.matchID));
          document.getElementById("matches").innerHTML = matches.length === 0 ? '<p class="muted">none</p>' :
            table(["match", "region", "node", "phase", "players", "connected", "alive", "tick"], matches.map((m) =>
              "<tr><td><code>" + esc(m.matchID.slice(0, 8)) + "</code></td><td>" + esc(m.region) + "</td><td>" + esc(m.node) + "</td><td>" + esc(m.phase) +
              "</td><td>" + esc(m.players) + "</td><td>" + esc(m.connected) + "</td><td>" + esc(m.alive) + "</td><td>" + esc(m.tick) + "</td></tr>"));
        }
        function renderQueues(queues) {
          document.getElementById("queues").innerHTML = table(["region", "tickets", "players", "lobbies", "longest waits: why not matched"], queues.map((q) =>
            "<tr><td>" + esc(q.region) + "</td><td>" + esc(q.queuedTickets) + "</td><td>" + esc(q.queuedPlayers) + "</td><td>" + esc(q.openLobbies) + "</td><td>" +
            (q.error ? '<span class="error">' + esc(q.error) + "</span>" :
              (q.tickets.length === 0 ? '<span class="muted">empty</span>' : "<ul>" + q.tickets.slice(0, 5).map((t) =>
                "<li>" + esc((t.waitedMs / 1000).toFixed(1)) + " s, " + esc(t.players) + " player(s): " + esc(t.reason) + "</li>").join("") + "</ul>")) +
            "</td></tr>"));
        }
        async function refresh() {
          try {
            const [cluster, matches, queues] = await Promise.all([get("/api/v1/cluster"), get("/api/v1/matches"), get("/api/v1/queues")]);
            renderCluster(cluster); renderMatches(matches); renderQueues(queues);
            document.getElementById("status").textContent = "served by " + cluster.servedBy + ", updated " + new Date().toLocaleTimeString();
          } catch (error) {
            document.getElementById("status").textContent = "could not refresh: " + error.message;
          }
        }
        document.getElementById("player-form").addEventListener("submit", async (event) => {
          event.preventDefault();
          const id = document.getElementById("player-id").value.trim();
          const out = document.getElementById("player");
          try {
            const p = await get("/api/v1/players/" + encodeURIComponent(id));
            const balances = Object.keys(p.balances).sort().map((k) => esc(k) + "=" + esc(p.balances[k])).join(" ") || "—";
            out.innerHTML = "<dl><dt>name</dt><dd>" + esc(p.displayName) + (p.banned ? ' <span class="error">banned</span>' : "") +
              "</dd><dt>home region</dt><dd>" + esc(p.homeRegion) + "</dd><dt>session</dt><dd>" + esc(p.session) +
              "</dd><dt>balances</dt><dd>" + balances + "</dd><dt>latest transfer</dt><dd>" + esc(p.latestTransfer || "none") + "</dd></dl>" +
              (p.recentMatches.length === 0 ? "" : table(["recent match", "outcome", "xp"], p.recentMatches.map((m) =>
                "<tr><td><code>" + esc(m.matchID.slice(0, 8)) + "</code></td><td>" + esc(m.outcome) + "</td><td>" + esc(m.xp) + "</td></tr>")));
          } catch (error) {
            out.innerHTML = '<p class="error">' + esc(error.message) + "</p>";
          }
        });
        get("/api/v1/whoami").then((me) => { document.getElementById("whoami").textContent = me.name + " (" + me.role + ")"; }).catch(() => {});
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body></html>
        """

    private static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0 2em 2em;color:#1d2330;background:#f6f7f9}
        header{display:flex;gap:1em;align-items:center}header h1{flex:1}header form{margin:0}
        h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}h3{font-size:14px;margin:.8em 0 .3em}
        table{border-collapse:collapse;background:#fff;min-width:40em}th,td{padding:3px 10px;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
        th{background:#eef0f4;font-weight:600}ul{margin:0;padding-left:1.2em}.muted{color:#6b7385}.error{color:#b3261e}
        .state.up{color:#1b7f3b}.state.suspect{color:#a66300}.state.down,.state.removed{color:#b3261e}
        dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}dt{color:#6b7385}dd{margin:0}
        body.login{display:flex;justify-content:center;padding-top:15vh}
        #login{background:#fff;padding:2em;border:1px solid #e3e6eb;border-radius:6px;display:flex;flex-direction:column;gap:.6em;min-width:22em}
        input,button{font:inherit;padding:4px 8px}
        """

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
