package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.TensorTree;
import io.posteriors.Trace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad input is refused at build or init with a message naming the parameter and the value. */
class ValidationTest {

    private static final LogProbFn<Regression.Batch> LP = Regression.logPosterior();

    private static void assertIae(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), "'" + ex.getMessage() + "' should name " + f);
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -1e-3, Double.NaN, Double.POSITIVE_INFINITY})
    void builders_badLearningRate_throwNamingLr(double lr) {
        String v = String.valueOf(lr);
        assertIae(() -> Sgld.builder(LP, lr), "lr", v);
        assertIae(() -> Sghmc.builder(LP, lr), "lr", v);
        assertIae(() -> Sgnht.builder(LP, lr), "lr", v);
        assertIae(() -> Baoa.builder(LP, lr), "lr", v);
    }

    @Test
    void builders_lrScheduleBadAtStepZero_throwAtBuild() {
        Schedule bad = step -> -0.5;
        assertIae(() -> Sgld.builder(LP, bad).build(), "lr", "-0.5", "step 0");
        assertIae(() -> Sghmc.builder(LP, bad).build(), "lr", "-0.5");
        assertIae(() -> Sgnht.builder(LP, bad).build(), "lr", "-0.5");
        assertIae(() -> Baoa.builder(LP, bad).build(), "lr", "-0.5");
        Schedule nan = step -> Double.NaN;
        assertIae(() -> Sgld.builder(LP, nan).build(), "lr", "NaN");
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.1, Double.NaN, Double.NEGATIVE_INFINITY})
    void builders_badTemperature_throwNamingTemperature(double t) {
        assertIae(() -> Sgld.builder(LP, 0.1).temperature(t), "temperature");
        assertIae(() -> Sghmc.builder(LP, 0.1).temperature(t), "temperature");
        assertIae(() -> Sgnht.builder(LP, 0.1).temperature(t), "temperature");
        assertIae(() -> Baoa.builder(LP, 0.1).temperature(t), "temperature");
        Schedule s = step -> t;
        assertIae(() -> Sgld.builder(LP, 0.1).temperature(s).build(), "temperature");
        assertIae(() -> Baoa.builder(LP, 0.1).temperature(s).build(), "temperature");
    }

    @Test
    void builders_negativeAlpha_throwNamingAlpha() {
        assertIae(() -> Sghmc.builder(LP, 0.1).alpha(-0.01), "alpha", "-0.01");
        assertIae(() -> Sgnht.builder(LP, 0.1).alpha(-0.01), "alpha", "-0.01");
        assertIae(() -> Baoa.builder(LP, 0.1).alpha(-0.01), "alpha", "-0.01");
        assertIae(() -> Baoa.builder(LP, 0.1).alpha(Double.NaN), "alpha", "NaN");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, -2.0, Double.NaN})
    void builders_nonPositiveSigma_throwNamingSigma(double sigma) {
        assertIae(() -> Sghmc.builder(LP, 0.1).sigma(sigma), "sigma");
        assertIae(() -> Sgnht.builder(LP, 0.1).sigma(sigma), "sigma");
        assertIae(() -> Baoa.builder(LP, 0.1).sigma(sigma), "sigma");
    }

    @Test
    void builders_badBetaXiOrMomenta_throw() {
        assertIae(() -> Sgld.builder(LP, 0.1).beta(-1), "beta", "-1");
        assertIae(() -> Sghmc.builder(LP, 0.1).beta(Double.NaN), "beta", "NaN");
        assertIae(() -> Sgnht.builder(LP, 0.1).xi(Double.NaN), "xi", "NaN");
        assertIae(() -> Sghmc.builder(LP, 0.1).momenta(Double.NaN), "momenta", "NaN");
        assertThrows(NullPointerException.class, () -> Sghmc.builder(LP, 0.1).momenta(null));
        assertThrows(NullPointerException.class, () -> Sgld.builder(null, 0.1));
        assertThrows(NullPointerException.class, () -> Sgld.builder(LP, (Schedule) null));
    }

    @Test
    void builders_gradientNoiseLargerThanTheDiffusion_throwAtBuild() {
        // the injected variance ε T (2 − ε T β) would be negative
        assertIae(() -> Sgld.builder(LP, 0.1).beta(30).build(), "beta * lr * temperature", "2.0");
        assertIae(
                () -> Sghmc.builder(LP, 0.1).alpha(0.01).beta(1).build(),
                "beta * lr * temperature",
                "0.02");
        // at T = 0 nothing is injected, so any beta is fine
        Sgld.builder(LP, 0.1).beta(30).temperature(0.0).build();
    }

    @Test
    void init_momentaTreeOfWrongStructure_throwNamingMomentaAndShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree params = Regression.params(m, DataType.FLOAT32);
            Map<String, NDArray> wrongShape = new LinkedHashMap<>();
            wrongShape.put("w", m.zeros(new Shape(4)));
            wrongShape.put("b", m.zeros(new Shape()));
            TensorTree badShape = TensorTree.of(wrongShape);
            assertIae(
                    () -> Sghmc.builder(LP, 0.1).momenta(badShape).build().init(params),
                    "momenta",
                    "'w'",
                    "(4)",
                    "(3)");
            TensorTree missing = TensorTree.of("w", m.zeros(new Shape(3)));
            assertIae(
                    () -> Sgnht.builder(LP, 0.1).momenta(missing).build().init(params),
                    "momenta",
                    "[w, b]",
                    "[w]");
            assertIae(() -> Baoa.builder(LP, 0.1).momenta(missing).build().init(params), "momenta");
            // the caller's parameters are untouched by the failed init
            assertEquals(0.1f, params.get("w").toFloatArray()[0]);
        }
    }

    @Test
    void init_momentaTree_isCopiedInTheParametersDataType() {
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree params = Regression.params(m, DataType.FLOAT32);
            Map<String, NDArray> mom = new LinkedHashMap<>();
            mom.put("w", m.create(new double[] {1, 2, 3}));
            mom.put("b", m.create(4.0));
            TensorTree momenta = TensorTree.of(mom);
            SghmcState s = Sghmc.builder(LP, 0.1).momenta(momenta).build().init(params);
            assertEquals(DataType.FLOAT32, s.momenta().get("w").getDataType());
            assertTrue(s.momenta().get("w") != momenta.get("w"));
            assertEquals(4f, s.momenta().get("b").toFloatArray()[0]);
        }
    }

    @Test
    void update_closedState_throwsIllegalState() {
        try (NDManager m = NDManager.newBaseManager()) {
            var t = Sgld.builder(LP, 0.1).build();
            SgldState s = t.init(Regression.params(m, DataType.FLOAT32));
            s.close();
            assertThrows(
                    IllegalStateException.class,
                    () -> t.update(s, Regression.batch(m, DataType.FLOAT32)));
        }
    }

    @Test
    void trace_badOptions_throw() {
        var t = Sgld.builder(LP, 0.1).build();
        assertIae(() -> Trace.builder(t, 0), "steps", "0");
        assertIae(() -> Trace.builder(t, 10).thin(0), "thin", "0");
        assertIae(() -> Trace.builder(t, 10).burnIn(-1), "burnIn", "-1");
        assertIae(() -> Trace.builder(t, 10).burnIn(8).thin(3).build(), "thin 3");
        assertIae(() -> Trace.builder(t, 10).coordinates(-2), "coordinate", "-2");
        assertIae(
                () ->
                        Trace.builder(t, 10)
                                .scalar("lp", SgldState::logPosterior)
                                .scalar("lp", s -> null),
                "'lp'");
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree p = Regression.params(m, DataType.FLOAT32);
            Regression.Batch b = Regression.batch(m, DataType.FLOAT32);
            assertIae(() -> Trace.builder(t, 10).build().run(p, List.of()), "batches");
            assertIae(() -> Trace.builder(t, 10).build().run(List.of(), List.of(b)), "inits");
            assertIae(
                    () -> Trace.builder(t, 10).coordinates(4).build().run(p, List.of(b)),
                    "coordinate",
                    "4");
        }
    }
}
