package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every non-finite value a sampler meets is reported with its place: the leaf of the initial
 * parameters at {@code init}, the step of a non-finite log posterior, the leaf and step of a
 * non-finite gradient; and a failed step leaves the state as it was.
 */
class StepChecksTest {

    /** Which value of the log posterior the batch asks for. */
    enum Bad {
        NONE,
        VALUE,
        GRADIENT
    }

    /**
     * A standard normal log density over the regression parameters. {@code VALUE} adds NaN to it;
     * {@code GRADIENT} adds {@code sqrt(b − b)}, which is 0 with a NaN derivative in leaf 'b'.
     */
    private static final LogProbFn<Bad> LP =
            (p, bad) -> {
                NDArray w = p.get("w");
                NDArray b = p.get("b");
                NDArray v = w.square().sum().add(b.square()).neg();
                if (bad == Bad.VALUE) {
                    v = v.add(Float.NaN);
                } else if (bad == Bad.GRADIENT) {
                    v = v.add(b.sub(b).sqrt());
                }
                return LogProb.of(v);
            };

    private static List<Transform<? extends State, Bad>> samplers() {
        return List.of(
                Sgld.builder(LP, 1e-2).build(),
                Sghmc.builder(LP, 1e-2).build(),
                Sgnht.builder(LP, 1e-2).build(),
                Baoa.builder(LP, 1e-2).build());
    }

    private static String failure(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    private static void assertNames(String message, String... fragments) {
        for (String f : fragments) {
            assertTrue(message.contains(f), "'" + message + "' should name " + f);
        }
    }

    @Test
    void init_nanInParams_throwsNamingTheLeaf() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> p = new LinkedHashMap<>();
            p.put("w", m.create(new float[] {0.1f, 0.2f, -0.3f}));
            p.put("b", m.create(Float.NaN));
            TensorTree params = TensorTree.of(p);
            for (Transform<? extends State, Bad> t : samplers()) {
                assertNames(failure(() -> t.init(params)), "params", "'b'", "NaN", "step 0");
            }
        }
    }

    @Test
    void update_nanLogPosterior_throwsNamingTheStepAndKeepsTheState() {
        for (Transform<? extends State, Bad> t : samplers()) {
            String message = failAtStepTwo(t, Bad.VALUE);
            assertNames(message, "must be finite", "NaN", "step 2");
        }
    }

    @Test
    void update_nanGradient_throwsNamingTheLeafAndStepAndKeepsTheState() {
        for (Transform<? extends State, Bad> t : samplers()) {
            String message = failAtStepTwo(t, Bad.GRADIENT);
            assertNames(message, "gradient", "'b'", "NaN", "step 2");
        }
    }

    /**
     * Takes two good steps, then a bad one in place; checks the state is untouched by the failure
     * and returns the message.
     */
    private static <S extends State> String failAtStepTwo(Transform<S, Bad> t, Bad bad) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            S s = t.init(Regression.params(m, DataType.FLOAT32));
            for (int i = 0; i < 2; i++) {
                Step<S> step = t.updateInPlace(s, Bad.NONE);
                step.aux().close();
                s = step.state();
            }
            S before = s;
            List<float[]> values = before.arrays().stream().map(NDArray::toFloatArray).toList();
            String message = failure(() -> t.updateInPlace(before, bad));
            List<NDArray> after = before.arrays();
            for (int i = 0; i < after.size(); i++) {
                assertTrue(
                        java.util.Arrays.equals(values.get(i), after.get(i).toFloatArray()),
                        "a failed step changed array " + i);
            }
            assertEquals(2, before.step());
            return message;
        }
    }
}
