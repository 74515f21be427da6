package io.sluice.engine;

import java.math.BigDecimal;
import java.math.BigInteger;

/** Exact number handling shared by the where-clause parser and the engines' translations of {@link Predicate.In}. */
public final class Numbers {
  private Numbers() {
  }

  /** The exact value of a finite number, or null for NaN and infinities. */
  public static BigDecimal exact(Number num) {
    if (num instanceof BigDecimal big) {
      return big;
    }
    if (num instanceof BigInteger big) {
      return new BigDecimal(big);
    }
    if (num instanceof Long || num instanceof Integer || num instanceof Short || num instanceof Byte) {
      return BigDecimal.valueOf(num.longValue());
    }
    double d = num.doubleValue();
    return Double.isFinite(d) ? new BigDecimal(d) : null;
  }

  /**
   * The value as a 64-bit integer when it is one exactly (2.0 is 2), else null: a link key of another type that
   * no Int or Long column can hold matches no row, on every engine alike.
   */
  public static Long integralValue(Object v) {
    if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Number num) {
      BigDecimal exact = exact(num);
      if (exact != null && exact.signum() == 0) {
        return 0L;
      }
      if (exact != null && exact.stripTrailingZeros().scale() <= 0) {
        BigInteger big = exact.toBigInteger();
        if (big.bitLength() <= 63) {
          return big.longValue();
        }
      }
    }
    return null;
  }
}
