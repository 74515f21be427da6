package io.sluice.bus;

/** Every event-bus address, in one place. */
public final class Addresses {
  /** Schema reads and changes, row writes, deletes, searches: handled by the store verticles. */
  public static final String STORE = "sluice.store";

  private Addresses() {
  }
}
