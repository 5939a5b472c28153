package io.posteriors.io;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import io.posteriors.io.PosteriorFileException.Problem;
import io.posteriors.io.SafetensorsFormat.Entry;
import io.posteriors.io.SafetensorsFormat.Outgoing;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns trees, sample posteriors and records into a structure description plus a list of named
 * tensors, and back. The description is JSON: every node has a {@code kind}; records list their
 * {@code fields} in component order, each with its {@code name}; trees list their {@code leaves};
 * scalars carry their {@code value} as a string. A tensor's key is its path: component names, list
 * indices and leaf names joined by {@code /}.
 *
 * <p>Loading walks the caller's expected class and the description side by side and never uses a
 * class name from the file: a recorded type is only compared with the expected one.
 */
final class Codec {

    static final String TREE = "tree";
    static final String SAMPLES = "samples";
    static final String ARRAY = "array";
    static final String RECORD = "record";
    static final String LIST = "list";
    static final String NULL = "null";
    static final String STRING = "string";
    static final String ENUM = "enum";

    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,20}");
    private static final Pattern DECIMAL =
            Pattern.compile("-?([0-9]+(\\.[0-9]+)?([eE]-?[0-9]+)?|NaN|Infinity)");

    private static final Map<Class<?>, String> SCALARS = new LinkedHashMap<>();

    static {
        SCALARS.put(double.class, "double");
        SCALARS.put(Double.class, "double");
        SCALARS.put(float.class, "float");
        SCALARS.put(Float.class, "float");
        SCALARS.put(long.class, "long");
        SCALARS.put(Long.class, "long");
        SCALARS.put(int.class, "int");
        SCALARS.put(Integer.class, "int");
        SCALARS.put(short.class, "short");
        SCALARS.put(Short.class, "short");
        SCALARS.put(byte.class, "byte");
        SCALARS.put(Byte.class, "byte");
        SCALARS.put(boolean.class, "boolean");
        SCALARS.put(Boolean.class, "boolean");
    }

    private Codec() {}

    // ---------------------------------------------------------------- types

    /** Returns the class a component's declared type loads into, or throws naming the field. */
    static Class<?> raw(Type t, String field) {
        if (t instanceof Class<?> c) {
            if (c == List.class) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "field '%s' is a raw List; declare its element type, e.g."
                                        + " List<TensorTree>",
                                field));
            }
            return c;
        }
        if (t instanceof ParameterizedType p && p.getRawType() == List.class) {
            return List.class;
        }
        if (t instanceof WildcardType w && w.getLowerBounds().length == 0) {
            return raw(w.getUpperBounds()[0], field);
        }
        throw new IllegalArgumentException(
                Checks.format("field '%s' has type %s, which cannot be saved", field, t));
    }

    private static Type elementType(Type list) {
        Type e = ((ParameterizedType) list).getActualTypeArguments()[0];
        return e instanceof WildcardType w && w.getLowerBounds().length == 0
                ? w.getUpperBounds()[0]
                : e;
    }

    /** Returns the kind a class is saved as, or throws naming the field. */
    static String kindOf(Class<?> c, String field) {
        if (c == TensorTree.class) {
            return TREE;
        }
        if (c == SamplePosterior.class) {
            return SAMPLES;
        }
        if (c == NDArray.class) {
            return ARRAY;
        }
        if (c.isRecord()) {
            return RECORD;
        }
        if (c == List.class) {
            return LIST;
        }
        if (c == String.class) {
            return STRING;
        }
        if (c.isEnum()) {
            return ENUM;
        }
        String s = SCALARS.get(c);
        if (s != null) {
            return s;
        }
        throw new IllegalArgumentException(
                Checks.format(
                        "field '%s' has type %s, which cannot be saved; supported: TensorTree,"
                                + " SamplePosterior, NDArray, records, List of these, primitive"
                                + " and boxed numbers and booleans, String, enums",
                        field, c.getName()));
    }

    /**
     * Checks that {@code type} can be a file's top-level type.
     *
     * @param type the class
     * @throws IllegalArgumentException when it is not TensorTree, SamplePosterior or a record
     */
    static void checkRootType(Class<?> type) {
        if (type != TensorTree.class && type != SamplePosterior.class && !type.isRecord()) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "type must be TensorTree, SamplePosterior or a record class, got %s",
                            type.getName()));
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "/" + name;
    }

    private static String display(String path) {
        return path.isEmpty() ? "(root)" : path;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Describes a value and collects its tensors.
     *
     * @param value a tree, a sample posterior or a record
     * @param out receives the tensors, in order
     * @return the structure description
     * @throws IllegalArgumentException when a component cannot be saved or a name is not allowed
     */
    static Map<String, Object> encodeRoot(Object value, List<Outgoing> out) {
        checkRootType(value.getClass());
        return encode(value, value.getClass(), "", out);
    }

    private static Map<String, Object> encode(
            Object v, Type declared, String path, List<Outgoing> out) {
        Class<?> c = raw(declared, display(path));
        String kind = kindOf(c, display(path));
        Map<String, Object> node = new LinkedHashMap<>();
        if (v == null) {
            node.put("kind", NULL);
            return node;
        }
        node.put("kind", kind);
        switch (kind) {
            case TREE -> node.put("leaves", leaves((TensorTree) v, path, out));
            case SAMPLES -> node.put("leaves", leaves(((SamplePosterior) v).samples(), path, out));
            case ARRAY -> out.add(new Outgoing(path, Checks.open((NDArray) v, path)));
            case RECORD -> {
                node.put("type", c.getName());
                List<Object> fields = new ArrayList<>();
                for (RecordComponent rc : c.getRecordComponents()) {
                    checkSegment(rc.getName(), path);
                    Map<String, Object> f = new LinkedHashMap<>();
                    f.put("name", rc.getName());
                    f.putAll(
                            encode(get(rc, v), rc.getGenericType(), join(path, rc.getName()), out));
                    fields.add(f);
                }
                node.put("fields", fields);
            }
            case LIST -> {
                Type e = elementType(declared);
                List<Object> items = new ArrayList<>();
                List<?> list = (List<?>) v;
                for (int k = 0; k < list.size(); k++) {
                    items.add(encode(list.get(k), e, join(path, Integer.toString(k)), out));
                }
                node.put("items", items);
            }
            case ENUM -> node.put("value", ((Enum<?>) v).name());
            default -> node.put("value", String.valueOf(v));
        }
        return node;
    }

    private static List<Object> leaves(TensorTree tree, String path, List<Outgoing> out) {
        List<Object> names = new ArrayList<>();
        tree.forEach(
                (name, a) -> {
                    if (!SafetensorsFormat.validName(name)) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "leaf '%s' of field '%s' cannot be saved: leaf names are"
                                                + " /-separated parts of 1 to 256 characters from"
                                                + " A-Z a-z 0-9 _ . - [ ] $, none of them . or ..",
                                        Json.printable(name), display(path)));
                    }
                    names.add(name);
                    String key = join(path, name);
                    out.add(new Outgoing(key, Checks.open(a, "leaf '" + key + "'")));
                });
        return names;
    }

    private static void checkSegment(String name, String path) {
        if (!SafetensorsFormat.validSegment(name)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "component '%s' of field '%s' cannot be saved: its name is not"
                                    + " plain ASCII",
                            Json.printable(name), display(path)));
        }
    }

    private static Object get(RecordComponent rc, Object record) {
        Method m = rc.getAccessor();
        m.trySetAccessible();
        try {
            return m.invoke(record);
        } catch (IllegalAccessException e) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "cannot read component '%s' of %s: %s",
                            rc.getName(), record.getClass().getName(), e.getMessage()),
                    e);
        } catch (InvocationTargetException e) {
            throw rethrow(e);
        }
    }

    private static RuntimeException rethrow(InvocationTargetException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException r) {
            return r;
        }
        if (c instanceof Error err) {
            throw err;
        }
        return new IllegalStateException(c);
    }

    // ---------------------------------------------------------------- decoding

    /** Builds a value from the loaded arrays, once every check has passed. */
    interface Plan {
        /**
         * Builds the value.
         *
         * @param arrays the loaded tensors by key
         * @return the value
         * @throws PosteriorFileException when a record's constructor refuses the values
         */
        Object build(Map<String, NDArray> arrays) throws PosteriorFileException;
    }

    /** Checks a description against an expected class and the file's tensors. */
    static final class Planner {
        private final Path file;
        private final Map<String, Entry> tensors;
        private final Set<String> used = new HashSet<>();

        Planner(Path file, Map<String, Entry> tensors) {
            this.file = file;
            this.tensors = tensors;
        }

        private PosteriorFileException fail(Problem p, String fmt, Object... args) {
            return new PosteriorFileException(
                    p, file + ": " + String.format(Locale.ROOT, fmt, args));
        }

        /**
         * Plans the root: checks the whole description and that every tensor is used once.
         *
         * @param type the expected class
         * @param node the parsed description
         * @return the plan
         * @throws PosteriorFileException when the description does not fit
         */
        Plan root(Class<?> type, Object node) throws PosteriorFileException {
            Plan p = plan(node, type, "");
            for (String name : tensors.keySet()) {
                if (!used.contains(name)) {
                    throw fail(
                            Problem.STRUCTURE,
                            "tensor '%s' is not part of the recorded structure of %s",
                            name,
                            type.getName());
                }
            }
            return p;
        }

        private Plan plan(Object n, Type declared, String path) throws PosteriorFileException {
            String where = display(path);
            Class<?> c = raw(declared, where);
            String expectedKind = kindOf(c, where);
            if (!(n instanceof Map<?, ?>)) {
                throw fail(Problem.STRUCTURE, "field '%s' must be described by an object", where);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> node = (Map<String, Object>) n;
            String kind = node.get("kind") instanceof String k ? k : null;
            if (NULL.equals(kind)) {
                if (c.isPrimitive()) {
                    throw fail(
                            Problem.STRUCTURE,
                            "field '%s' is recorded as null but has primitive type %s",
                            where,
                            c.getName());
                }
                keys(node, where, Set.of("name", "kind"));
                return arrays -> null;
            }
            if (!expectedKind.equals(kind)) {
                throw fail(
                        Problem.STRUCTURE,
                        "field '%s' must be recorded as a %s (for %s), the file has kind %s",
                        where,
                        expectedKind,
                        c.getName(),
                        kind == null ? "none" : "'" + Json.printable(kind) + "'");
            }
            switch (kind) {
                case TREE:
                    keys(node, where, Set.of("name", "kind", "leaves"));
                    return tree(node, path, false);
                case SAMPLES:
                    keys(node, where, Set.of("name", "kind", "leaves"));
                    Plan tree = tree(node, path, true);
                    return arrays -> SamplePosterior.ofStacked((TensorTree) tree.build(arrays));
                case ARRAY:
                    keys(node, where, Set.of("name", "kind"));
                    use(path, where);
                    return arrays -> arrays.get(path);
                case RECORD:
                    keys(node, where, Set.of("name", "kind", "type", "fields"));
                    return record(node, c, path);
                case LIST:
                    keys(node, where, Set.of("name", "kind", "items"));
                    if (!(node.get("items") instanceof List<?> items)) {
                        throw fail(Problem.STRUCTURE, "field '%s' must list its items", where);
                    }
                    Type e = elementType(declared);
                    List<Plan> plans = new ArrayList<>();
                    for (int k = 0; k < items.size(); k++) {
                        plans.add(plan(items.get(k), e, join(path, Integer.toString(k))));
                    }
                    return arrays -> {
                        List<Object> out = new ArrayList<>(plans.size());
                        for (Plan p : plans) {
                            out.add(p.build(arrays));
                        }
                        return java.util.Collections.unmodifiableList(out);
                    };
                default:
                    keys(node, where, Set.of("name", "kind", "value"));
                    Object v = scalar(node.get("value"), kind, c, where);
                    return arrays -> v;
            }
        }

        private void keys(Map<String, Object> node, String where, Set<String> allowed)
                throws PosteriorFileException {
            for (String k : node.keySet()) {
                if (!allowed.contains(k)) {
                    throw fail(
                            Problem.STRUCTURE,
                            "field '%s' has unexpected entry '%s'",
                            where,
                            Json.printable(k));
                }
            }
        }

        private void use(String key, String where) throws PosteriorFileException {
            if (!tensors.containsKey(key)) {
                throw fail(
                        Problem.STRUCTURE,
                        "field '%s' needs tensor '%s', which the file does not hold",
                        where,
                        Json.printable(key));
            }
            if (!used.add(key)) {
                throw fail(
                        Problem.STRUCTURE,
                        "tensor '%s' is used twice (field '%s')",
                        Json.printable(key),
                        where);
            }
        }

        private Plan tree(Map<String, Object> node, String path, boolean stacked)
                throws PosteriorFileException {
            String where = display(path);
            if (!(node.get("leaves") instanceof List<?> leaves) || leaves.isEmpty()) {
                throw fail(Problem.STRUCTURE, "field '%s' must list at least one leaf name", where);
            }
            List<String> keys = new ArrayList<>();
            List<String> names = new ArrayList<>();
            long samples = -1;
            for (Object o : leaves) {
                if (!(o instanceof String name) || !SafetensorsFormat.validName(name)) {
                    throw fail(
                            Problem.NAME,
                            "field '%s' has a leaf name that is not allowed: %s",
                            where,
                            Json.printable(String.valueOf(o)));
                }
                String key = join(path, name);
                use(key, where);
                names.add(name);
                keys.add(key);
                if (stacked) {
                    long[] shape = tensors.get(key).shape();
                    if (shape.length < 1 || shape[0] < 1 || (samples >= 0 && shape[0] != samples)) {
                        throw fail(
                                Problem.VALUE,
                                "field '%s' leaf '%s' must have the common leading sample"
                                        + " dimension (at least 1), got shape %s",
                                where,
                                name,
                                java.util.Arrays.toString(shape));
                    }
                    samples = shape[0];
                }
            }
            return arrays -> {
                Map<String, NDArray> m = new LinkedHashMap<>();
                for (int k = 0; k < keys.size(); k++) {
                    m.put(names.get(k), arrays.get(keys.get(k)));
                }
                return TensorTree.of(m);
            };
        }

        private Plan record(Map<String, Object> node, Class<?> c, String path)
                throws PosteriorFileException {
            String where = display(path);
            Object type = node.get("type");
            if (!c.getName().equals(type)) {
                throw fail(
                        Problem.TYPE_MISMATCH,
                        "field '%s' holds a %s, expected %s",
                        where,
                        type instanceof String s ? Json.printable(s) : "record of no type",
                        c.getName());
            }
            RecordComponent[] rcs = c.getRecordComponents();
            if (!(node.get("fields") instanceof List<?> fields) || fields.size() != rcs.length) {
                throw fail(
                        Problem.STRUCTURE,
                        "field '%s' must record the %d components of %s",
                        where,
                        rcs.length,
                        c.getName());
            }
            List<Plan> plans = new ArrayList<>();
            Class<?>[] types = new Class<?>[rcs.length];
            for (int k = 0; k < rcs.length; k++) {
                Object f = fields.get(k);
                Object name = f instanceof Map<?, ?> m ? m.get("name") : null;
                if (!rcs[k].getName().equals(name)) {
                    throw fail(
                            Problem.STRUCTURE,
                            "field '%s' component %d of %s must be '%s', the file has %s",
                            where,
                            k,
                            c.getName(),
                            rcs[k].getName(),
                            name instanceof String s ? "'" + Json.printable(s) + "'" : "none");
                }
                plans.add(plan(f, rcs[k].getGenericType(), join(path, rcs[k].getName())));
                types[k] = rcs[k].getType();
            }
            Constructor<?> ctor;
            try {
                ctor = c.getDeclaredConstructor(types);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(
                        "record " + c.getName() + " has no canonical constructor", e);
            }
            ctor.trySetAccessible();
            return arrays -> {
                Object[] args = new Object[plans.size()];
                for (int k = 0; k < args.length; k++) {
                    args[k] = plans.get(k).build(arrays);
                }
                try {
                    return ctor.newInstance(args);
                } catch (InvocationTargetException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new PosteriorFileException(
                            Problem.VALUE,
                            file
                                    + ": "
                                    + Checks.format(
                                            "%s refused the loaded values of field '%s': %s",
                                            c.getName(), where, cause.getMessage()),
                            cause);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException(
                            Checks.format("cannot construct %s: %s", c.getName(), e.getMessage()),
                            e);
                }
            };
        }

        private Object scalar(Object value, String kind, Class<?> c, String where)
                throws PosteriorFileException {
            if (!(value instanceof String s)) {
                throw fail(Problem.VALUE, "field '%s' must record its value as a string", where);
            }
            try {
                switch (kind) {
                    case STRING:
                        return s;
                    case ENUM:
                        for (Object constant : c.getEnumConstants()) {
                            if (((Enum<?>) constant).name().equals(s)) {
                                return constant;
                            }
                        }
                        throw fail(
                                Problem.VALUE,
                                "field '%s' holds '%s', which is not a constant of %s",
                                where,
                                Json.printable(s),
                                c.getName());
                    case "boolean":
                        if (s.equals("true") || s.equals("false")) {
                            return Boolean.valueOf(s);
                        }
                        break;
                    case "double":
                        if (DECIMAL.matcher(s).matches()) {
                            return Double.valueOf(s);
                        }
                        break;
                    case "float":
                        if (DECIMAL.matcher(s).matches()) {
                            return Float.valueOf(s);
                        }
                        break;
                    case "long":
                        if (INTEGER.matcher(s).matches()) {
                            return Long.valueOf(s);
                        }
                        break;
                    case "int":
                        if (INTEGER.matcher(s).matches()) {
                            return Integer.valueOf(s);
                        }
                        break;
                    case "short":
                        if (INTEGER.matcher(s).matches()) {
                            return Short.valueOf(s);
                        }
                        break;
                    case "byte":
                        if (INTEGER.matcher(s).matches()) {
                            return Byte.valueOf(s);
                        }
                        break;
                    default:
                        break;
                }
            } catch (NumberFormatException e) {
                // out of range: reported below
            }
            throw fail(
                    Problem.VALUE,
                    "field '%s' must hold a %s, got '%s'",
                    where,
                    kind,
                    Json.printable(s));
        }
    }

    /**
     * Adds every array a loaded value holds to {@code out}.
     *
     * @param v the value
     * @param out the arrays
     */
    static void arrays(Object v, List<NDArray> out) {
        if (v instanceof TensorTree t) {
            out.addAll(t.leaves());
        } else if (v instanceof SamplePosterior p) {
            out.addAll(p.samples().leaves());
            out.addAll(p.mean().leaves());
        } else if (v instanceof NDArray a) {
            out.add(a);
        } else if (v instanceof List<?> l) {
            l.forEach(x -> arrays(x, out));
        } else if (v instanceof Record r) {
            for (RecordComponent rc : r.getClass().getRecordComponents()) {
                arrays(get(rc, r), out);
            }
        }
    }
}
