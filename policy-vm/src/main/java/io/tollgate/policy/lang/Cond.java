package io.tollgate.policy.lang;

import java.util.List;

/**
 * A rule condition of the policy language, over attribute slots of its {@link PolicyAst}. Every operator on an
 * absent attribute is false (so {@code not} of it is true), except {@link Present}.
 */
public sealed interface Cond {
    /** All of the conditions hold (true when empty). */
    record All(List<Cond> of) implements Cond {}

    /** At least one of the conditions holds (false when empty). */
    record Any(List<Cond> of) implements Cond {}

    record Not(Cond of) implements Cond {}

    /** The attribute is present (or, with {@code expected = false}, absent). */
    record Present(int slot, boolean expected) implements Cond {}

    /** A bytes attribute equals the value, byte for byte. */
    record Equals(int slot, byte[] value) implements Cond {}

    /** A bytes attribute starts with the value. */
    record Prefix(int slot, byte[] value) implements Cond {}

    /** A bytes attribute matches a glob: {@code *} any run of bytes (also empty), {@code ?} one byte. */
    record Glob(int slot, byte[] pattern) implements Cond {}

    /** A bytes attribute equals one of the values (methods, hosts, routes...). */
    record In(int slot, List<byte[]> values) implements Cond {}

    /** A list attribute holds the value (a role, a scope). */
    record Contains(int slot, byte[] value) implements Cond {}

    /** A list attribute holds at least one of the values. */
    record ContainsAny(int slot, List<byte[]> values) implements Cond {}

    /** A list attribute holds every one of the values. */
    record ContainsAll(int slot, List<byte[]> values) implements Cond {}

    /** Two bytes attributes are both present and equal (e.g. a claim and a path parameter). */
    record SameAs(int slot, int otherSlot) implements Cond {}
}
