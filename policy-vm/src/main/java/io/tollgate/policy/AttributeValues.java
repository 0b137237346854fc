package io.tollgate.policy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Request attributes by name, as plain Java values: for tests, the {@code policy test} command, the reference
 * interpreter and the OPA tier's JSON input. Not for the request path (the gateway copies straight from its
 * buffers into a {@link PolicyInstance}). Values are {@code byte[]} (bytes attributes) or {@code List<byte[]>}
 * (list attributes).
 */
public final class AttributeValues {
    private final Map<String, Object> values = new LinkedHashMap<>();

    public AttributeValues put(String name, String value) {
        return put(name, value.getBytes(StandardCharsets.UTF_8));
    }

    public AttributeValues put(String name, byte[] value) {
        requireKind(name, Attributes.Kind.BYTES);
        values.put(name, value.clone());
        return this;
    }

    public AttributeValues putList(String name, List<String> items) {
        List<byte[]> bytes = new ArrayList<>(items.size());
        for (String s : items) {
            bytes.add(s.getBytes(StandardCharsets.UTF_8));
        }
        return putListBytes(name, bytes);
    }

    public AttributeValues putListBytes(String name, List<byte[]> items) {
        requireKind(name, Attributes.Kind.LIST);
        List<byte[]> copy = new ArrayList<>(items.size());
        for (byte[] b : items) {
            copy.add(b.clone());
        }
        values.put(name, Collections.unmodifiableList(copy));
        return this;
    }

    /** {@code byte[]}, {@code List<byte[]>} or null. */
    public Object get(String name) {
        return values.get(name);
    }

    public Map<String, Object> asMap() {
        return Collections.unmodifiableMap(values);
    }

    /** Values in the slot order of {@code attributes} (null where absent), as the interpreter takes them. */
    public Object[] toSlots(List<String> attributes) {
        Object[] out = new Object[attributes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(attributes.get(i));
        }
        return out;
    }

    /** Sets every attribute the instance's module declares and this map holds. */
    @SuppressWarnings("unchecked")
    public void copyTo(PolicyInstance instance) {
        List<String> attributes = instance.module().attributes();
        for (int slot = 0; slot < attributes.size(); slot++) {
            Object v = values.get(attributes.get(slot));
            if (v instanceof byte[] b) {
                instance.set(slot, b, 0, b.length);
            } else if (v instanceof List<?> list) {
                instance.beginList(slot);
                for (byte[] item : (List<byte[]>) list) {
                    instance.addItem(slot, item, 0, item.length);
                }
            }
        }
    }

    private static void requireKind(String name, Attributes.Kind kind) {
        Attributes.Kind actual = Attributes.kindOf(name);
        if (actual == null) {
            throw new IllegalArgumentException("unknown attribute '" + name + "'");
        }
        if (actual != kind) {
            throw new IllegalArgumentException("attribute '" + name + "' is a " + actual.name().toLowerCase(
                    java.util.Locale.ROOT) + " attribute");
        }
    }
}
