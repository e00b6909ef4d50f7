package io.sparkvision.model.onednn;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * Moves a DL4J layer object's state to the product's object that stands in for it in a built graph, and back: every
 * instance field DL4J's layer classes declare, from {@code top} (the DL4J class replaced) up. The stand-in then holds
 * the original's configuration, parameters, gradient views, input, listeners and counters, and the original resumes
 * where the stand-in left off when {@link NativePath#uninstall} puts it back.
 */
final class LayerState {
    private LayerState() {
    }

    static <T> void copy(Class<T> top, T from, T to, String switchProperty) {
        for (Class<?> c = top; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) continue;
                try {
                    f.setAccessible(true);
                    f.set(to, f.get(from));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalStateException("DL4J's " + c.getSimpleName() + "." + f.getName() + " cannot be taken over; run with -D"
                            + switchProperty + "=false", e);
                }
            }
        }
    }
}
