package io.posteriors.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.KroneckerFactors;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseGgn;
import io.posteriors.laplace.DenseLaplaceState;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.laplace.Evidence;
import io.posteriors.laplace.KfacGgn;
import io.posteriors.laplace.KfacLaplaceState;
import io.posteriors.laplace.PriorPrecision;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import io.posteriors.spark.Problems.XY;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Data-parallel Laplace on {@code local[2,2]}: the curvature and log likelihood summed over 4
 * partitions on 2 workers equal the single-JVM fit over the same rows to 1e-10 relative (float64),
 * a task that fails once and is retried changes nothing, and bad input is refused on the driver.
 */
class SparkLaplaceTest {

    private static final int N = 400;
    private static final int PARTITIONS = 4;
    private static final int BATCH = 24;
    private static final double RTOL = 1e-10;

    /** Failures injected by the retry test (executors share this JVM in local mode). */
    private static final AtomicInteger INJECTED = new AtomicInteger();

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    // ------------------------------------------------------------------------------ helpers

    private static JavaRDD<double[]> rdd(List<double[]> rows) {
        return TestSpark.context().parallelize(rows, PARTITIONS);
    }

    /** The single-JVM fit: one transform over every batch, in order. */
    private <S extends State> S single(
            LaplaceRecipe<XY, S> recipe,
            BatchAdapter<double[], XY> adapter,
            List<double[]> rows,
            TensorTree map) {
        Transform<S, XY> t = recipe.build(manager);
        S s = t.init(map);
        for (List<double[]> chunk : Problems.chunks(rows, BATCH)) {
            try (NDManager scope = manager.newSubManager()) {
                Step<S> step = t.updateInPlace(s, adapter.toBatch(chunk, scope));
                step.aux().close();
                s = step.state();
            }
        }
        return s;
    }

    private double singleLogLikelihood(List<double[]> rows, TensorTree map) {
        List<XY> batches = new ArrayList<>();
        for (List<double[]> chunk : Problems.chunks(rows, BATCH)) {
            batches.add(Problems.regressionBatch(chunk, manager));
        }
        return Evidence.logLikelihood(Problems.linear(), Problems.gaussianOuter(), map, batches);
    }

    /** max |a − b| / max |b|, over every element. */
    private static double relError(NDArray actual, NDArray expected) {
        double[] a = actual.toDoubleArray();
        double[] e = expected.toDoubleArray();
        assertEquals(e.length, a.length, "element count");
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < e.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - e[i]));
            scale = Math.max(scale, Math.abs(e[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }

    private static void assertClose(NDArray actual, NDArray expected, String what) {
        double err = relError(actual, expected);
        assertTrue(
                err <= RTOL,
                String.format(Locale.ROOT, "%s: relative error %.3g > %.0e", what, err, RTOL));
    }

    private static void assertClose(TensorTree actual, TensorTree expected, String what) {
        assertEquals(expected.names(), actual.names(), what + " leaves");
        for (String k : expected.names()) {
            assertClose(actual.get(k), expected.get(k), what + " '" + k + "'");
        }
    }

    private static void assertCloseScalar(double actual, double expected, String what) {
        double err = Math.abs(actual - expected) / Math.abs(expected);
        assertTrue(
                err <= RTOL,
                String.format(
                        Locale.ROOT,
                        "%s: %.17g vs %.17g, relative error %.3g",
                        what,
                        actual,
                        expected,
                        err));
    }

    private static LaplaceRecipe<XY, DiagLaplaceState> diagFisher() {
        return m ->
                DiagFisher.builder(Problems.perSampleLogPosterior(N))
                        .perSample(true)
                        .initPrecDiag(0.25)
                        .build();
    }

    private static LaplaceRecipe<XY, DiagLaplaceState> diagGgn() {
        return m ->
                DiagGgn.builder(Problems.linear(), Problems.gaussianOuter())
                        .initPrecDiag(0.25)
                        .build();
    }

    // -------------------------------------------------------------------------------- tests

    @Test
    void fit_diagFisherOnTwoWorkers_equalsSingleJvmFit() {
        List<double[]> rows = Problems.regressionRows(N, 1);
        TensorTree map = Problems.regressionMap(manager);
        SparkLaplace<double[], XY, DiagLaplaceState> laplace =
                SparkLaplace.builder(diagFisher(), Problems::regressionBatch)
                        .batchSize(BATCH)
                        .build();
        int before = manager.getManagedArrays().size();
        try (LaplaceFit<DiagLaplaceState> fit = laplace.fit(rdd(rows), map, manager)) {
            assertEquals(
                    before + fit.state().arrays().size(),
                    manager.getManagedArrays().size(),
                    "the fit leaves its state on the caller's manager, and nothing else");
            DiagLaplaceState expected = single(diagFisher(), Problems::regressionBatch, rows, map);
            assertClose(fit.state().precDiag(), expected.precDiag(), "precDiag");
            assertClose(fit.state().params(), map, "params");
            assertEquals(N, fit.rows());
            assertEquals(PARTITIONS, fit.stats().tasks());
            // each partition ends with a short batch, so the distributed fit takes more steps
            assertTrue(fit.state().step() >= expected.step(), "steps");
            assertTrue(Double.isNaN(fit.logLikelihood()), "no log likelihood unless asked");
        }
    }

    @Test
    void fit_diagGgnWithLogLikelihood_equalsSingleJvmFitAndEvidence() {
        List<double[]> rows = Problems.regressionRows(N, 2);
        TensorTree map = Problems.regressionMap(manager);
        SparkLaplace<double[], XY, DiagLaplaceState> laplace =
                SparkLaplace.builder(diagGgn(), Problems::regressionBatch)
                        .batchSize(BATCH)
                        .logLikelihood(true)
                        .build();
        try (LaplaceFit<DiagLaplaceState> fit = laplace.fit(rdd(rows), map, manager)) {
            DiagLaplaceState expected = single(diagGgn(), Problems::regressionBatch, rows, map);
            assertClose(fit.state().precDiag(), expected.precDiag(), "precDiag");
            double ll = singleLogLikelihood(rows, map);
            assertCloseScalar(fit.logLikelihood(), ll, "log likelihood");
            PriorPrecision prior = new PriorPrecision.Scalar(0.25);
            assertCloseScalar(
                    Evidence.logEvidence(fit.state(), prior, fit.logLikelihood()),
                    Evidence.logEvidence(expected, prior, ll),
                    "log evidence");
        }
    }

    @Test
    void fit_datasetOfRows_equalsSingleJvmFit() {
        List<double[]> rows = Problems.regressionRows(N, 3);
        List<Row> sparkRows = new ArrayList<>();
        for (double[] r : rows) {
            sparkRows.add(RowFactory.create(r[0], r[1], r[2], r[3]));
        }
        StructType schema =
                new StructType()
                        .add("x0", DataTypes.DoubleType)
                        .add("x1", DataTypes.DoubleType)
                        .add("x2", DataTypes.DoubleType)
                        .add("y", DataTypes.DoubleType);
        Dataset<Row> ds =
                TestSpark.session().createDataFrame(sparkRows, schema).repartition(PARTITIONS);
        BatchAdapter<Row, XY> adapter =
                (batch, m) -> {
                    List<double[]> raw = new ArrayList<>(batch.size());
                    for (Row r : batch) {
                        raw.add(
                                new double[] {
                                    r.getDouble(0), r.getDouble(1), r.getDouble(2), r.getDouble(3)
                                });
                    }
                    return Problems.regressionBatch(raw, m);
                };
        TensorTree map = Problems.regressionMap(manager);
        try (LaplaceFit<DiagLaplaceState> fit =
                SparkLaplace.builder(diagGgn(), adapter)
                        .batchSize(BATCH)
                        .build()
                        .fit(ds, map, manager)) {
            DiagLaplaceState expected = single(diagGgn(), Problems::regressionBatch, rows, map);
            assertClose(fit.state().precDiag(), expected.precDiag(), "precDiag");
            assertEquals(N, fit.rows());
        }
    }

    @Test
    void fit_denseFisherAndDenseGgn_equalSingleJvmFits() {
        List<double[]> rows = Problems.regressionRows(N, 4);
        TensorTree map = Problems.regressionMap(manager);
        LaplaceRecipe<XY, DenseLaplaceState> fisher =
                m ->
                        DenseFisher.builder(Problems.perSampleLogPosterior(N))
                                .perSample(true)
                                .initPrec(0.25)
                                .build();
        LaplaceRecipe<XY, DenseLaplaceState> ggn =
                m ->
                        DenseGgn.builder(Problems.linear(), Problems.gaussianOuter())
                                .initPrec(0.25)
                                .build();
        for (LaplaceRecipe<XY, DenseLaplaceState> recipe : List.of(fisher, ggn)) {
            try (LaplaceFit<DenseLaplaceState> fit =
                    SparkLaplace.builder(recipe, Problems::regressionBatch)
                            .batchSize(BATCH)
                            .depth(1)
                            .build()
                            .fit(rdd(rows), map, manager)) {
                DenseLaplaceState expected = single(recipe, Problems::regressionBatch, rows, map);
                assertClose(fit.state().prec(), expected.prec(), "prec");
                try (NDArray a = fit.state().covarianceCholesky();
                        NDArray e = expected.covarianceCholesky()) {
                    assertTrue(relError(a, e) <= 1e-9, "covariance Cholesky factor");
                }
            }
        }
    }

    @Test
    void fit_kfacGgnOfAnMlp_equalsSingleJvmFactors() {
        List<double[]> rows = Problems.classificationRows(N, 5);
        TensorTree map = TensorTree.fromBlock(Problems.mlp(manager)).copy();
        LaplaceRecipe<XY, KfacLaplaceState> recipe =
                m -> KfacGgn.builder(Problems.classifier(m)).priorPrecision(0.5).build();
        int before = manager.getManagedArrays().size();
        try (LaplaceFit<KfacLaplaceState> fit =
                SparkLaplace.builder(recipe, Problems::classificationBatch)
                        .batchSize(BATCH)
                        .logLikelihood(true)
                        .build()
                        .fit(rdd(rows), map, manager)) {
            assertEquals(
                    before + fit.state().arrays().size(),
                    manager.getManagedArrays().size(),
                    "the driver's model is freed; only the state stays");
            KfacLaplaceState expected = single(recipe, Problems::classificationBatch, rows, map);
            KfacLaplaceState actual = fit.state();
            assertEquals(expected.samples(), actual.samples(), "samples");
            assertEquals(expected.factors().size(), actual.factors().size(), "layers");
            for (int i = 0; i < expected.factors().size(); i++) {
                KroneckerFactors.Layer e = expected.factors().get(i);
                KroneckerFactors.Layer a = actual.factors().get(i);
                assertEquals(e.weight(), a.weight());
                assertClose(a.a(), e.a(), "layer " + i + " A");
                assertClose(a.g(), e.g(), "layer " + i + " G");
            }
            assertClose(actual.varianceDiag(), expected.varianceDiag(), "variance");
            assertTrue(Double.isFinite(fit.logLikelihood()) && fit.logLikelihood() < 0);
            assertCloseScalar(
                    Evidence.logEvidence(actual, fit.logLikelihood()),
                    Evidence.logEvidence(expected, fit.logLikelihood()),
                    "log evidence");
        }
    }

    @Test
    void fit_taskFailsOnceAndIsRetried_resultUnchanged() {
        List<double[]> rows = Problems.regressionRows(N, 6);
        TensorTree map = Problems.regressionMap(manager);
        BatchAdapter<double[], XY> flaky =
                (batch, m) -> {
                    TaskContext tc = TaskContext.get();
                    if (tc.partitionId() == 1 && tc.attemptNumber() == 0) {
                        INJECTED.incrementAndGet();
                        throw new IllegalStateException("injected failure of a first attempt");
                    }
                    return Problems.regressionBatch(batch, m);
                };
        INJECTED.set(0);
        try (LaplaceFit<DiagLaplaceState> retried =
                        SparkLaplace.builder(diagGgn(), flaky)
                                .batchSize(BATCH)
                                .logLikelihood(true)
                                .build()
                                .fit(rdd(rows), map, manager);
                LaplaceFit<DiagLaplaceState> clean =
                        SparkLaplace.builder(diagGgn(), Problems::regressionBatch)
                                .batchSize(BATCH)
                                .logLikelihood(true)
                                .build()
                                .fit(rdd(rows), map, manager)) {
            assertEquals(1, INJECTED.get(), "exactly one attempt failed");
            assertClose(retried.state().precDiag(), clean.state().precDiag(), "precDiag");
            assertEquals(clean.state().step(), retried.state().step());
            assertCloseScalar(retried.logLikelihood(), clean.logLikelihood(), "log likelihood");
        }
    }

    @Test
    void fit_emptyData_givesThePrior() {
        TensorTree map = Problems.regressionMap(manager);
        JavaRDD<double[]> empty = TestSpark.context().parallelize(List.<double[]>of(), 2);
        try (LaplaceFit<DiagLaplaceState> fit =
                SparkLaplace.builder(diagGgn(), Problems::regressionBatch)
                        .build()
                        .fit(empty, map, manager)) {
            assertEquals(0, fit.rows());
            assertEquals(0, fit.state().step());
            for (NDArray a : fit.state().precDiag().leaves()) {
                for (double v : a.toDoubleArray()) {
                    assertEquals(0.25, v);
                }
            }
        }
    }

    @Test
    void fit_badInput_refusedOnTheDriver() {
        TensorTree map = Problems.regressionMap(manager);
        JavaRDD<double[]> rows = rdd(Problems.regressionRows(8, 7));
        LaplaceRecipe<XY, OptimizeState> notLaplace =
                m -> Optimize.builder(Problems.perSampleLogPosterior(8), Sgd.of(0.1)).build();
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                SparkLaplace.builder(notLaplace, Problems::regressionBatch)
                                        .build()
                                        .fit(rows, map, manager));
        assertTrue(e.getMessage().contains("DiagLaplaceState"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                SparkLaplace.builder(diagFisher(), Problems::regressionBatch)
                                        .logLikelihood(true)
                                        .build()
                                        .fit(rows, map, manager));
        assertTrue(e.getMessage().contains("logLikelihood(true)"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                SparkLaplace.builder(diagGgn(), Problems::regressionBatch)
                                        .batchSize(0));
        assertTrue(e.getMessage().contains("batchSize"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> SparkLaplace.builder(diagGgn(), Problems::regressionBatch).depth(0));
        assertThrows(
                NullPointerException.class,
                () -> SparkLaplace.builder(null, Problems::regressionBatch));
        assertEquals(
                0, TestSpark.session().sparkContext().statusTracker().getActiveJobIds().length);
    }
}
