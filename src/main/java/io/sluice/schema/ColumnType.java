package io.sluice.schema;

import java.util.Locale;

/** Aito's column types; {@link #aitoName()} is the spelling returned to clients. */
public enum ColumnType {
  INT("Int"), LONG("Long"), DECIMAL("Decimal"), STRING("String"), TEXT("Text"), BOOLEAN("Boolean");

  private final String aitoName;

  ColumnType(String aitoName) {
    this.aitoName = aitoName;
  }

  public String aitoName() {
    return aitoName;
  }

  public boolean isNumeric() {
    return this == INT || this == LONG || this == DECIMAL;
  }

  public boolean isIntegral() {
    return this == INT || this == LONG;
  }

  /** Case-insensitive, as Aito's clients send "Int" but users write "int". Returns null when unknown. */
  public static ColumnType parse(String name) {
    if (name == null) {
      return null;
    }
    String lower = name.toLowerCase(Locale.ROOT);
    for (ColumnType type : values()) {
      if (type.aitoName.toLowerCase(Locale.ROOT).equals(lower)) {
        return type;
      }
    }
    return null;
  }
}
