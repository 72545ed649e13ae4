// pgjdbc probe for the Fedgres client harness (test/clients/jdbc-client.ts compiles and runs it).
// Usage: java -cp <dir>:postgresql.jar JdbcProbe <jdbc-url> <user>   (password in FEDGRES_PASSWORD)
// Prints one JSON object per check on stdout: {"check":..., "ok":true|false, ...data | "error":...}.
// It only reports what the driver saw; the TypeScript side decides what is correct.
import java.sql.*;
import java.util.*;
import java.util.concurrent.*;

public class JdbcProbe {
  interface Check { Map<String, Object> run() throws Exception; }

  static Connection conn;

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", System.getenv("FEDGRES_PASSWORD"));
    props.setProperty("ApplicationName", "fedgres-jdbc-probe");
    props.setProperty("connectTimeout", "10");
    run("connect", () -> {
      conn = DriverManager.getConnection(args[0], props);
      DatabaseMetaData md = conn.getMetaData();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("product", md.getDatabaseProductName());
      m.put("version", md.getDatabaseProductVersion());
      m.put("driver", md.getDriverVersion());
      return m;
    });
    if (conn == null) return;
    run("getCatalogs", () -> Map.of("catalogs", column(conn.getMetaData().getCatalogs(), "TABLE_CAT")));
    run("getSchemas", () -> Map.of("schemas", column(conn.getMetaData().getSchemas(), "TABLE_SCHEM")));
    run("getTables", () -> {
      List<Object> tables = new ArrayList<>();
      try (ResultSet rs = conn.getMetaData().getTables(null, "public", "%", null)) {
        while (rs.next()) tables.add(List.of(rs.getString("TABLE_NAME"), rs.getString("TABLE_TYPE"), String.valueOf(rs.getString("REMARKS"))));
      }
      return Map.of("tables", tables);
    });
    run("getColumns", () -> {
      List<Object> cols = new ArrayList<>();
      try (ResultSet rs = conn.getMetaData().getColumns(null, "public", "alerts", "%")) {
        while (rs.next())
          cols.add(List.of(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"), rs.getInt("DATA_TYPE"), rs.getString("IS_NULLABLE"), rs.getInt("ORDINAL_POSITION")));
      }
      return Map.of("columns", cols);
    });
    run("getPrimaryKeys", () -> Map.of("keys", column(conn.getMetaData().getPrimaryKeys(null, "public", "alerts"), "COLUMN_NAME")));
    run("getTypeInfo", () -> Map.of("types", column(conn.getMetaData().getTypeInfo(), "TYPE_NAME").size()));
    run("prepared", JdbcProbe::prepared);
    run("fetchSize", JdbcProbe::fetchSize);
    run("cancel", JdbcProbe::cancel);
    conn.close();
  }

  /** Executed 7 times: pgjdbc switches to a named server-side statement at prepareThreshold=5. */
  static Map<String, Object> prepared() throws SQLException {
    List<Object> counts = new ArrayList<>();
    List<Object> serverPrepared = new ArrayList<>();
    String types = "";
    try (PreparedStatement ps = conn.prepareStatement("select count(*) as n, max(time) as latest, max(edge_id) as edge from alerts where severity > ?")) {
      for (int i = 1; i <= 7; i++) {
        ps.setInt(1, i);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          counts.add(rs.getLong(1));
          if (rs.getTimestamp(2) != null || rs.getString(3) != null) throw new SQLException("max() over no rows is not NULL");
          ResultSetMetaData md = rs.getMetaData();
          types = md.getColumnTypeName(1) + "," + md.getColumnTypeName(2) + "," + md.getColumnTypeName(3);
        }
        serverPrepared.add(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare());
      }
    }
    return Map.of("counts", counts, "serverPrepared", serverPrepared, "types", types);
  }

  /** A cursor-backed ResultSet: Execute with a row limit, PortalSuspended, resumed 10 rows at a time. */
  static Map<String, Object> fetchSize() throws SQLException {
    conn.setAutoCommit(false);
    long rows = 0, sum = 0;
    try (Statement st = conn.createStatement()) {
      st.setFetchSize(10);
      try (ResultSet rs = st.executeQuery("select g from generate_series(1,100) g")) {
        while (rs.next()) {
          rows++;
          sum += rs.getInt(1);
        }
      }
    }
    conn.commit();
    conn.setAutoCommit(true);
    return Map.of("rows", rows, "sum", sum);
  }

  /** Statement.cancel() from another thread: a CancelRequest on a second connection. */
  static Map<String, Object> cancel() throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try (Statement st = conn.createStatement()) {
      timer.schedule(() -> { try { st.cancel(); } catch (SQLException e) { /* reported as no cancel */ } }, 500, TimeUnit.MILLISECONDS);
      long t0 = System.nanoTime();
      try {
        st.executeQuery("select pg_sleep(30)");
        m.put("sqlState", "none");
      } catch (SQLException e) {
        m.put("sqlState", e.getSQLState());
        m.put("message", e.getMessage());
      }
      m.put("ms", (System.nanoTime() - t0) / 1_000_000);
    } finally {
      timer.shutdownNow();
    }
    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("select 41 + 1")) {
      rs.next();
      m.put("after", rs.getInt(1));
    }
    return m;
  }

  static List<Object> column(ResultSet rs, String name) throws SQLException {
    List<Object> out = new ArrayList<>();
    try (rs) {
      while (rs.next()) out.add(rs.getString(name));
    }
    return out;
  }

  static void run(String name, Check check) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("check", name);
    try {
      out.put("ok", true);
      out.putAll(check.run());
    } catch (Throwable e) {
      out.put("ok", false);
      out.put("error", e.getClass().getName() + ": " + e.getMessage());
      if (e instanceof SQLException) out.put("sqlState", ((SQLException) e).getSQLState());
    }
    System.out.println(json(out));
    System.out.flush();
  }

  static String json(Object v) {
    if (v == null) return "null";
    if (v instanceof Boolean || v instanceof Integer || v instanceof Long) return v.toString();
    if (v instanceof Map) {
      StringJoiner j = new StringJoiner(",", "{", "}");
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) j.add(json(e.getKey().toString()) + ":" + json(e.getValue()));
      return j.toString();
    }
    if (v instanceof List) {
      StringJoiner j = new StringJoiner(",", "[", "]");
      for (Object o : (List<?>) v) j.add(json(o));
      return j.toString();
    }
    StringBuilder b = new StringBuilder("\"");
    for (char c : v.toString().toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
