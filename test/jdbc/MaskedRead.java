// A BI tool's view of a masked grant, through the PostgreSQL JDBC driver:
// test/shell/24_masked_jdbc.sh runs it as a department and compares what it
// prints.  Usage: java -cp postgresql.jar MaskedRead.java URL USER CLEAR...
// where CLEAR are the provider's clear values of the items granted masked:
// every value read, by every path, is looked up among them and printed as
// "LEAK|path|value" when found.  Keyed pseudonyms (32 hex digits) print as
// P1, P2 ... in the order first seen, so that the same label in every path
// shows them stable.
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

public class MaskedRead {
	static final Set<String> clear = new HashSet<>();
	static final Map<String, String> pseudonyms = new HashMap<>();

	// a value as printed: checked against the clear values, pseudonyms labelled
	static String seen(String path, String v) {
		if (v == null)
			return "null";
		if (clear.contains(v))
			System.out.println("LEAK|" + path + "|" + v);
		if (v.matches("[0-9a-f]{32}"))
			return pseudonyms.computeIfAbsent(v, k -> "P" + (pseudonyms.size() + 1));
		return v;
	}

	static String row(String path, ResultSet rs) throws SQLException {
		ResultSetMetaData md = rs.getMetaData();
		StringBuilder sb = new StringBuilder(path);
		for (int i = 1; i <= md.getColumnCount(); i++)
			sb.append('|').append(seen(path, rs.getString(i)));
		return sb.toString();
	}

	static void print(String path, ResultSet rs) throws SQLException {
		while (rs.next())
			System.out.println(row(path, rs));
	}

	static void query(Connection c, String path, String sql) throws SQLException {
		try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
			print(path, rs);
		}
	}

	public static void main(String[] args) throws Exception {
		for (int i = 2; i < args.length; i++)
			clear.add(args[i]);
		try (Connection c = DriverManager.getConnection(args[0], args[1], "")) {
			// the column browser: names, types, comments (REMARKS)
			DatabaseMetaData meta = c.getMetaData();
			try (ResultSet rs = meta.getColumns(null, "police", "person", null)) {
				while (rs.next())
					System.out.println("column|" + rs.getString("COLUMN_NAME") + "|" + rs.getString("TYPE_NAME")
						+ "|" + String.valueOf(rs.getString("REMARKS")).replace("\n", " / "));
			}
			// the department's own grant: which items, which masks
			query(c, "grant", "SELECT resource, items::text, coalesce(masks::text, 'clear') FROM pubdata.share_request_status "
				+ "WHERE status = 'approved' AND requester = (SELECT d.code FROM pubdata.department d WHERE d.role_name = current_user) ORDER BY id");
			// a plain query
			query(c, "select", "SELECT * FROM police.person ORDER BY id_number");
			// filters on the clear values find nothing; on the masked value, the row
			query(c, "where clear id", "SELECT count(*) FROM police.person WHERE id_number = '331102199003151234'");
			query(c, "where clear phone", "SELECT count(*) FROM police.person WHERE phone = '13800000001'");
			query(c, "where clear name", "SELECT count(*) FROM police.person WHERE name = '张三'");
			query(c, "where clear birth", "SELECT count(*) FROM police.person WHERE birth = '1990-03-15'");
			query(c, "where substring", "SELECT count(*) FROM police.person WHERE id_number LIKE '%19900315%'");
			// sorting is on the masked value: by the last four digits, not by birth
			query(c, "order by id", "SELECT string_agg(region || ':' || birth, ',' ORDER BY id_number) FROM police.person");
			query(c, "order by id, rows", "SELECT birth FROM police.person ORDER BY id_number");
			// prepared statements, server-side from the first execution
			// (prepareThreshold=1 in the URL): the extended protocol with
			// named statements, as BI tools run them
			try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM police.person WHERE id_number = ?")) {
				for (String v : new String[] {"331102199003151234", "3311**********1234", "331102199003151234"}) {
					p.setString(1, v);
					try (ResultSet rs = p.executeQuery()) { print("prepared where id", rs); }
				}
			}
			try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM police.person WHERE phone = ?")) {
				p.setString(1, "13800000001");
				try (ResultSet rs = p.executeQuery()) { print("prepared where phone", rs); }
			}
			try (PreparedStatement p = c.prepareStatement("SELECT id_number, name, phone FROM police.person WHERE region = ? ORDER BY id_number")) {
				for (int i = 0; i < 3; i++) {
					p.setString(1, "331102");
					try (ResultSet rs = p.executeQuery()) { if (i == 2) print("prepared", rs); }
				}
			}
			query(c, "server-side statements", "SELECT count(*) FILTER (WHERE NOT from_sql) > 0 FROM pg_prepared_statements "
				+ "WHERE statement LIKE '%police.person%'");
			// a scrollable result set, read backwards and by position
			try (Statement s = c.createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_READ_ONLY);
				 ResultSet rs = s.executeQuery("SELECT id_number, phone, birth FROM police.person ORDER BY id_number")) {
				rs.last();
				System.out.println(row("scroll last " + rs.getRow(), rs));
				while (rs.previous())
					System.out.println(row("scroll back " + rs.getRow(), rs));
				rs.absolute(2);
				System.out.println(row("scroll absolute 2", rs));
			}
			// a cursor: the driver reads through a portal, one row per fetch
			c.setAutoCommit(false);
			try (Statement s = c.createStatement()) {
				s.setFetchSize(1);
				try (ResultSet rs = s.executeQuery("SELECT id_number, phone, birth FROM police.person ORDER BY 1")) {
					print("cursor", rs);
				}
			}
			c.commit();
			c.setAutoCommit(true);
			// grouping sees the masked values (one group of three), and locking rows is refused
			query(c, "grouped", "SELECT count(DISTINCT id_number) FROM police.person GROUP BY left(id_number, 4)");
			try (Statement s = c.createStatement()) {
				s.executeQuery("SELECT id_number FROM police.person FOR UPDATE");
				System.out.println("locked|allowed");
			} catch (SQLException e) {
				System.out.println("locked|" + e.getSQLState());
			}
		}
	}
}
