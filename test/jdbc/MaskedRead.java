// A BI tool's view of a masked grant, through the PostgreSQL JDBC driver:
// test/shell/24_masked_jdbc.sh runs it as the department and compares what
// it prints.  Usage: java -cp postgresql.jar MaskedRead.java URL USER
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;

public class MaskedRead {
	static void print(String label, ResultSet rs) throws SQLException {
		ResultSetMetaData md = rs.getMetaData();
		while (rs.next()) {
			StringBuilder sb = new StringBuilder(label);
			for (int i = 1; i <= md.getColumnCount(); i++)
				sb.append('|').append(rs.getString(i));
			System.out.println(sb);
		}
	}

	public static void main(String[] args) throws Exception {
		try (Connection c = DriverManager.getConnection(args[0], args[1], "")) {
			// the column list and comments a BI tool browses
			DatabaseMetaData meta = c.getMetaData();
			try (ResultSet rs = meta.getColumns(null, "police", "person", null)) {
				while (rs.next())
					System.out.println("column|" + rs.getString("COLUMN_NAME") + "|" + rs.getString("TYPE_NAME")
						+ "|" + rs.getString("REMARKS"));
			}
			// what the grant gives, and how: the department's own view of its grants
			try (Statement s = c.createStatement();
				 ResultSet rs = s.executeQuery("SELECT resource, items::text, masks::text FROM pubdata.share_request_status "
					 + "WHERE status = 'approved' ORDER BY id")) {
				print("grant", rs);
			}
			// a plain query, a prepared one with a parameter, a server-side cursor
			try (Statement s = c.createStatement();
				 ResultSet rs = s.executeQuery("SELECT * FROM police.person ORDER BY id_number")) {
				print("select", rs);
			}
			try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM police.person WHERE id_number = ?")) {
				p.setString(1, "331102199001011234");
				try (ResultSet rs = p.executeQuery()) { print("clear value", rs); }
				p.setString(1, "3311**********1234");
				try (ResultSet rs = p.executeQuery()) { print("masked value", rs); }
			}
			try (PreparedStatement p = c.prepareStatement("SELECT name, phone FROM police.person WHERE region = ? ORDER BY name")) {
				for (int i = 0; i < 7; i++) {	// past the driver's prepareThreshold: a named server-side statement
					p.setString(1, "331102");
					try (ResultSet rs = p.executeQuery()) { if (i == 6) print("prepared", rs); }
				}
			}
			c.setAutoCommit(false);
			try (Statement s = c.createStatement()) {
				s.setFetchSize(1);	// the driver reads through a portal, one row per fetch
				try (ResultSet rs = s.executeQuery("SELECT id_number, birth FROM police.person ORDER BY 1")) {
					print("cursor", rs);
				}
			}
			c.commit();
			// grouping sees the masked values (one group of three), and locking rows is refused
			try (Statement s = c.createStatement();
				 ResultSet rs = s.executeQuery("SELECT count(DISTINCT id_number) FROM police.person GROUP BY left(id_number, 4)")) {
				print("grouped", rs);
			}
			try (Statement s = c.createStatement()) {
				s.executeQuery("SELECT id_number FROM police.person FOR UPDATE");
				System.out.println("locked|unexpectedly allowed");
			} catch (SQLException e) {
				System.out.println("locked|" + e.getSQLState());
			}
		}
	}
}
