package io.sluice.bus;

/** Every event-bus address, in one place. */
public final class Addresses {
  /** Schema reads and changes, row writes, deletes, searches: handled by the store verticles. */
  public static final String STORE = "sluice.store";
  /** File import jobs: initiate, upload hand-off, trigger, status. Handled by the import verticle. */
  public static final String IMPORT = "sluice.import";

  private Addresses() {
  }
}
