package io.posteriors.benchmarks;

import java.util.ArrayList;
import java.util.List;

/**
 * The workloads, in run order (baselines first), with what each is compared to. Names, settings and
 * the Python figures follow shared/reference/README.md (plain PyTorch, posteriors' code path,
 * measured on this 2-core machine on 2026-11-23).
 */
final class Catalog {

    private Catalog() {}

    /**
     * One workload.
     *
     * @param name the name in the results (the reference's where there is one)
     * @param ref the reference's label (W1..W6) or ""
     * @param benchmark the JMH benchmark (class canonical name + "." + method)
     * @param baseline the workload whose median is the ratio's denominator (itself for a baseline)
     * @param params the number of parameters of the model
     * @param batch the batch size (0 when there is no data)
     * @param config the settings, for the results line
     * @param targetRatio the target for the ratio, or null
     * @param targetUs the target in microseconds per step, or null
     * @param pythonMs the plain-PyTorch reference's median (posteriors' path), or null
     */
    record Spec(
            String name,
            String ref,
            String benchmark,
            String baseline,
            long params,
            int batch,
            String config,
            Double targetRatio,
            Double targetUs,
            Double pythonMs) {

        boolean isBaseline() {
            return name.equals(baseline);
        }
    }

    static final String SGD_MLP = "sgd-mlp";
    static final String SGD_SMALL = "sgd-small";
    static final String SGD_GAUSS = "sgd-gauss-2d";
    static final String GRAD_MLP = "grad-mlp";
    static final String FORWARD_MLP = "forward-mlp";

    static List<Spec> all() {
        long mlp = ClassificationProblem.mlpParams();
        long small = ClassificationProblem.smallParams();
        int b = ClassificationProblem.MLP_BATCH;
        String mlpData = "MLP 784-256-256-10, N=60000, ";
        String smallData = "MLP 20-32-4, N=2048, ";
        String logPost = "log posterior = mean log lik + N(0,1) prior / N";
        List<Spec> s = new ArrayList<>();
        // baselines
        s.add(
                spec(
                        SGD_MLP,
                        "W2",
                        CoreBenchmarks.SgdMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "DJL Trainer, softmax CE, Optimizer.sgd lr 1e-2",
                        null,
                        null,
                        0.61));
        s.add(
                spec(
                        SGD_SMALL,
                        "",
                        CoreBenchmarks.SgdSmall.class,
                        "step",
                        SGD_SMALL,
                        small,
                        64,
                        smallData + "DJL Trainer, softmax CE, Optimizer.sgd lr 1e-2",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        SGD_GAUSS,
                        "",
                        CoreBenchmarks.SgdGauss2d.class,
                        "step",
                        SGD_GAUSS,
                        2,
                        0,
                        "2-D Gaussian, DJL GradientCollector + plain ops, lr 0.1",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        GRAD_MLP,
                        "",
                        CoreBenchmarks.GradMlp.class,
                        "call",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "Autodiff.valueAndGrad of the " + logPost,
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "grad-mlp-autograd-prior",
                        "",
                        CoreBenchmarks.GradMlpAutogradPrior.class,
                        "call",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "Autodiff.valueAndGrad, the N(0,1) prior as a DiagNormal.logProb"
                                + " lambda (differentiated by autograd)",
                        null,
                        null,
                        null));
        // core
        s.add(
                spec(
                        "optimize-sgd-mlp",
                        "",
                        CoreBenchmarks.OptimizeSgdMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "Optimize + Sgd lr 1e-2 on the mean log lik (sanity ~1)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "optimize-sgd-logpost-mlp",
                        "",
                        CoreBenchmarks.OptimizeSgdLogPostMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "Optimize + Sgd lr 1e-2, " + logPost,
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "hvp-mlp",
                        "",
                        CoreBenchmarks.HvpMlp.class,
                        "call",
                        GRAD_MLP,
                        mlp,
                        b,
                        mlpData + "Autodiff.hvp of the " + logPost + " (ratio vs grad-mlp)",
                        4.0,
                        null,
                        null));
        s.add(
                spec(
                        "linearized-forward-diag-mlp",
                        "",
                        CoreBenchmarks.LinearizedForwardDiagMlp.class,
                        "call",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "Curvature.linearizedForwardDiag of the model (ModelLogPosterior), sd 0.01, 64 x 10 outputs",
                        null,
                        null,
                        null));
        // predictive
        s.add(
                spec(
                        FORWARD_MLP,
                        "",
                        PredictiveBenchmarks.ForwardMlp.class,
                        "call",
                        FORWARD_MLP,
                        mlp,
                        b,
                        mlpData + "one forward pass of the batch (the predictives' baseline)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "predictive-mc-mlp",
                        "",
                        PredictiveBenchmarks.MonteCarloMlp.class,
                        "call",
                        FORWARD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "Predictive.monteCarlo, 32 samples of a diagonal Gaussian (sd 0.01)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "predictive-linearised-last-layer-mlp",
                        "",
                        PredictiveBenchmarks.LinearisedLastLayerMlp.class,
                        "call",
                        FORWARD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "Predictive.linearised (probit, 32 output samples), diagonal"
                                + " Gaussian on the last layer (2570 parameters)",
                        null,
                        null,
                        null));
        // persistence: each against writing or reading the same bytes raw
        s.add(
                spec(
                        "raw-write-tree-mlp",
                        "",
                        PersistenceBenchmarks.RawWriteTreeMlp.class,
                        "call",
                        "raw-write-tree-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, raw little-endian float bytes of the parameter tree to a file, forced to disk (baseline)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "save-tree-mlp",
                        "",
                        PersistenceBenchmarks.SaveTreeMlp.class,
                        "call",
                        "raw-write-tree-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, PosteriorFiles.save of the parameter tree (header, CRC32C, atomic move)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "raw-read-tree-mlp",
                        "",
                        PersistenceBenchmarks.RawReadTreeMlp.class,
                        "call",
                        "raw-read-tree-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, raw bytes of the parameter tree read into direct buffers (baseline)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "load-tree-mlp",
                        "",
                        PersistenceBenchmarks.LoadTreeMlp.class,
                        "call",
                        "raw-read-tree-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, PosteriorFiles.load of the parameter tree (all checks)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "raw-write-state-mlp",
                        "",
                        PersistenceBenchmarks.RawWriteStateMlp.class,
                        "call",
                        "raw-write-state-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, raw bytes of an Optimize state (params + momentum) to a file (baseline)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "save-state-mlp",
                        "",
                        PersistenceBenchmarks.SaveStateMlp.class,
                        "call",
                        "raw-write-state-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, PosteriorFiles.save of an Optimize state with Sgd momentum",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "raw-read-state-mlp",
                        "",
                        PersistenceBenchmarks.RawReadStateMlp.class,
                        "call",
                        "raw-read-state-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, raw bytes of the state read into direct buffers (baseline)",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "load-state-mlp",
                        "",
                        PersistenceBenchmarks.LoadStateMlp.class,
                        "call",
                        "raw-read-state-mlp",
                        mlp,
                        0,
                        "MLP 784-256-256-10, PosteriorFiles.load of the Optimize state",
                        null,
                        null,
                        null));
        // sgmcmc
        s.add(
                spec(
                        "sghmc-mlp",
                        "W1",
                        SgmcmcBenchmarks.SghmcMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "lr 1e-2, alpha 0.01, beta 0, sigma 1, T 1/N, momenta 0; "
                                + logPost,
                        1.5,
                        null,
                        3.62));
        s.add(
                spec(
                        "sgld-mlp",
                        "",
                        SgmcmcBenchmarks.SgldMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "lr 1e-2, beta 0, T 1/N; " + logPost,
                        1.5,
                        null,
                        null));
        s.add(
                spec(
                        "sgnht-mlp",
                        "",
                        SgmcmcBenchmarks.SgnhtMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "lr 1e-2, alpha 0.01, beta 0, sigma 1, T 1/N, momenta 0; "
                                + logPost,
                        1.5,
                        null,
                        null));
        s.add(
                spec(
                        "baoa-mlp",
                        "",
                        SgmcmcBenchmarks.BaoaMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "lr 1e-2, alpha 0.01, sigma 1, T 1/N, momenta 0; " + logPost,
                        1.5,
                        null,
                        null));
        // laplace
        s.add(
                spec(
                        "laplace-diag-fisher",
                        "W3",
                        LaplaceBenchmarks.DiagFisherMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "DiagFisher, per-sample log posterior (perSample true), one"
                                + " batch per update",
                        2.0,
                        null,
                        144.0));
        s.add(
                spec(
                        "laplace-diag-ggn-mlp",
                        "",
                        LaplaceBenchmarks.DiagGgnMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "DiagGgn of the summed log lik, one batch per" + " update",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "laplace-kfac-ggn-mlp",
                        "",
                        LaplaceBenchmarks.KfacGgnMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "KfacGgn of the summed log lik, one batch per update",
                        3.0,
                        null,
                        null));
        s.add(
                spec(
                        "laplace-kfac-fisher-mlp",
                        "",
                        LaplaceBenchmarks.KfacFisherMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData + "KfacFisher of the summed log lik, one batch per update",
                        3.0,
                        null,
                        null));
        s.add(
                spec(
                        "laplace-evidence-tune-mlp",
                        "",
                        LaplaceBenchmarks.EvidenceTuneMlp.class,
                        "call",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "Evidence.tunePrior(KFAC GGN state, PER_LEAF) after a full pass,"
                                + " one call",
                        null,
                        null,
                        null));
        // vi
        s.add(
                spec(
                        "vi-diag",
                        "W4",
                        ViBenchmarks.DiagViMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "DiagVi, 1 sample, Adam lr 1e-3, stl, T 1/N, init log sd 0; "
                                + logPost,
                        2.0,
                        null,
                        8.25));
        // ekf
        s.add(
                spec(
                        "ekf-diag-fisher",
                        "W5",
                        EkfBenchmarks.DiagEkfMlp.class,
                        "step",
                        SGD_MLP,
                        mlp,
                        b,
                        mlpData
                                + "DiagEkf, per-sample log lik = -cross entropy, lr 1e-3,"
                                + " transition sd 0, init sd 1",
                        2.0,
                        null,
                        77.6));
        // dense methods on the small model
        s.add(
                spec(
                        "laplace-dense-fisher-small",
                        "",
                        LaplaceBenchmarks.DenseFisherSmall.class,
                        "step",
                        SGD_SMALL,
                        small,
                        64,
                        smallData + "DenseFisher (804 x 804), per-sample log posterior",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "laplace-dense-ggn-small",
                        "",
                        LaplaceBenchmarks.DenseGgnSmall.class,
                        "step",
                        SGD_SMALL,
                        small,
                        64,
                        smallData + "DenseGgn (804 x 804) of the summed log" + " lik",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "laplace-dense-hessian-small",
                        "",
                        LaplaceBenchmarks.DenseHessianSmall.class,
                        "step",
                        SGD_SMALL,
                        small,
                        64,
                        smallData + "DenseHessian (804 x 804) of the " + logPost,
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "vi-dense-small",
                        "",
                        ViBenchmarks.DenseViSmall.class,
                        "step",
                        SGD_SMALL,
                        small,
                        64,
                        smallData + "DenseVi, 1 sample, Adam lr 1e-3, stl, T 1/N; " + logPost,
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "ekf-dense-small",
                        "",
                        EkfBenchmarks.DenseEkfSmall.class,
                        "step",
                        SGD_SMALL,
                        small,
                        64,
                        smallData
                                + "DenseEkf (804 x 804), per-sample log lik, lr 1e-3,"
                                + " transition cov 0, init cov 1",
                        null,
                        null,
                        null));
        s.add(
                spec(
                        "sghmc-gauss-2d",
                        "W6",
                        SgmcmcBenchmarks.SghmcGauss2d.class,
                        "step",
                        SGD_GAUSS,
                        2,
                        0,
                        "posteriors' 2-D Gaussian scenario, lr 0.1, alpha 10, sigma sqrt(10),"
                                + " beta 0, T 1, momenta 0",
                        null,
                        null,
                        0.238));
        // Spark (built only with -Pspark: the benchmarks module then depends on posteriors-spark)
        if (SPARK_BENCHMARKS != null) {
            String spark = "MLP 784-256-256-10, 4096 rows (8 partitions x 8 batches x 64), ";
            s.add(
                    new Spec(
                            "laplace-diag-ggn-single-jvm-4096",
                            "",
                            SPARK_BENCHMARKS + ".DiagGgnSingleJvm.fit",
                            "laplace-diag-ggn-single-jvm-4096",
                            mlp,
                            b,
                            spark + "DiagGgn fit in one JVM (the baseline)",
                            null,
                            null,
                            null));
            s.add(
                    new Spec(
                            "laplace-diag-ggn-spark-local2-4096",
                            "",
                            SPARK_BENCHMARKS + ".DiagGgnSparkLocal.fit",
                            "laplace-diag-ggn-single-jvm-4096",
                            mlp,
                            b,
                            spark + "SparkLaplace DiagGgn fit on local[2], treeAggregate",
                            null,
                            null,
                            null));
        }
        return s;
    }

    /** The Spark benchmarks' class name when they were compiled in (-Pspark), else null. */
    static final String SPARK_BENCHMARKS = sparkBenchmarks();

    private static String sparkBenchmarks() {
        String name = "io.posteriors.benchmarks.SparkBenchmarks";
        try {
            Class.forName(name, false, Catalog.class.getClassLoader());
            return name;
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    /**
     * Returns the extra JVM flags the Spark benchmarks' forks need, or none.
     *
     * @return the flags
     */
    @SuppressWarnings("unchecked")
    static java.util.List<String> sparkJvmArgs() {
        if (SPARK_BENCHMARKS == null) {
            return java.util.List.of();
        }
        try {
            return (java.util.List<String>)
                    Class.forName(SPARK_BENCHMARKS).getField("JVM_ARGS").get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read SparkBenchmarks.JVM_ARGS", e);
        }
    }

    private static Spec spec(
            String name,
            String ref,
            Class<?> type,
            String method,
            String baseline,
            long params,
            int batch,
            String config,
            Double targetRatio,
            Double targetUs,
            Double pythonMs) {
        return new Spec(
                name,
                ref,
                type.getCanonicalName() + "." + method,
                baseline,
                params,
                batch,
                config,
                targetRatio,
                targetUs,
                pythonMs);
    }
}
