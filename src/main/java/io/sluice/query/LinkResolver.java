package io.sluice.query;

import java.util.Set;

/** Follows a link column: finds the key values of the linked table's rows that match a proposition. */
@FunctionalInterface
public interface LinkResolver {

  /**
   * Runs proposition {@code where} (a Vert.x JsonObject, or any proposition value) on {@code table} and
   * returns the distinct values of {@code column} of matching rows: Long for Int/Long, Double for Decimal,
   * String for String/Text, Boolean for Boolean.
   */
  Set<Object> values(String table, String column, Object where);
}
