package io.sluice;

/** The server version reported by {@code GET /version}. */
public final class Version {
  public static final String VERSION = "0.1.0";

  private Version() {
  }
}
