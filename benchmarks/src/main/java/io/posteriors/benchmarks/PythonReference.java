package io.posteriors.benchmarks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The plain-PyTorch reference's figures from a run beside this one ({@code
 * shared/reference/ref_bench.py}, JSON lines, {@code --python-ref=FILE}): for every workload it
 * measured, this run's median over the reference's ({@code vs_python}), with the reference's own
 * foreign-CPU share. The reference's {@code func} back end is posteriors' code path; its {@code
 * autograd} back end is what W6's target is measured against.
 */
final class PythonReference {

    /** One reference line: its median and how contaminated it was. */
    private record Figure(double medianMs, Double foreignPct) {}

    private final Map<String, Figure> func;
    private final Map<String, Figure> autograd;

    private PythonReference(Map<String, Figure> func, Map<String, Figure> autograd) {
        this.func = func;
        this.autograd = autograd;
    }

    /** Reads the file, or returns an empty reference when {@code file} is null. */
    static PythonReference read(String file) {
        Map<String, Figure> func = new HashMap<>();
        Map<String, Figure> autograd = new HashMap<>();
        if (file != null) {
            try {
                for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
                    if (!line.startsWith("{")) {
                        continue;
                    }
                    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                    JsonElement w = o.get("workload");
                    JsonElement median = o.get("median_ms");
                    if (w == null || median == null || median.isJsonNull()) {
                        continue;
                    }
                    JsonElement foreign = o.get("foreign_cpu_pct");
                    Figure f =
                            new Figure(
                                    median.getAsDouble(),
                                    foreign == null || foreign.isJsonNull()
                                            ? null
                                            : foreign.getAsDouble());
                    JsonElement impl = o.get("impl");
                    boolean isAutograd = impl != null && "autograd".equals(impl.getAsString());
                    (isAutograd ? autograd : func).put(w.getAsString(), f);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --python-ref file " + file, e);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "--python-ref file " + file + " is not ref_bench.py's JSON lines: " + e, e);
            }
        }
        return new PythonReference(func, autograd);
    }

    /**
     * Adds the reference's figures for {@code spec} to {@code row}: {@code python_ref_ms} (func
     * back end, replacing the catalog's stored figure), {@code python_ref_foreign_cpu_pct}, {@code
     * vs_python}, and for W6 {@code python_autograd_ms} and {@code vs_python_autograd}; {@code
     * meets_python_target} is whether this run is at most the reference (W6: its autograd path).
     */
    void compare(Catalog.Spec spec, double medianMs, Map<String, Object> row) {
        Figure f = func.get(spec.name());
        Figure a = autograd.get(spec.name());
        if (f != null) {
            row.put("python_ref_ms", f.medianMs());
            row.put("python_ref_foreign_cpu_pct", f.foreignPct());
            row.put("vs_python", round(medianMs / f.medianMs()));
        }
        if (a != null) {
            row.put("python_autograd_ms", a.medianMs());
            row.put("python_autograd_foreign_cpu_pct", a.foreignPct());
            row.put("vs_python_autograd", round(medianMs / a.medianMs()));
        }
        Figure target = "W6".equals(spec.ref()) && a != null ? a : f;
        if (target != null && !spec.ref().isEmpty()) {
            row.put("meets_python_target", medianMs <= target.medianMs());
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
