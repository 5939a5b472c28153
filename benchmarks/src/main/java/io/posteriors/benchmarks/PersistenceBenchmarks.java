package io.posteriors.benchmarks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.io.PosteriorFiles;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Saving and loading with {@link PosteriorFiles}, against writing and reading the same arrays' raw
 * bytes: the MLP 784-256-256-10's parameter tree (235,146 float32 values, 0.94 MB) and an {@code
 * Optimize} + SGD-with-momentum state (two such trees and a scalar).
 *
 * <p>The baselines write the arrays' bytes back to back with one {@link FileChannel} and force them
 * to the device (as {@code save} does before its atomic move), and read them back into direct
 * buffers (no arrays, no checks). {@code save} adds the JSON header, a CRC32C per tensor and the
 * temporary file and move; {@code load} adds the header checks, the CRC32Cs and creating the arrays
 * (which are closed again). Files live in a fresh temporary directory.
 */
public final class PersistenceBenchmarks {

    private PersistenceBenchmarks() {}

    /** Base of the file benchmarks: the problem, the value, its arrays and a file. */
    @State(Scope.Benchmark)
    public abstract static class FileBench extends Monitored {
        /** The problem whose parameters are saved. */
        protected ClassificationProblem problem;

        /** The value saved (a tree or a state). */
        protected Object value;

        /** The value's arrays, in order (what the raw baselines write). */
        protected List<NDArray> arrays;

        /** The manager the loads create their arrays on. */
        protected NDManager loadManager;

        /** The file written or read. */
        protected Path file;

        private Path dir;

        /** Creates the state (JMH calls this). */
        protected FileBench() {}

        /**
         * Builds the value to save.
         *
         * @param p the problem
         * @return a tree or a state
         */
        protected abstract Object build(ClassificationProblem p);

        /**
         * Returns the arrays of the value, in order.
         *
         * @return the arrays
         */
        protected abstract List<NDArray> arraysOf();

        /**
         * Writes what the timed call reads, if anything (untimed).
         *
         * @throws IOException when writing fails
         */
        protected void prepare() throws IOException {}

        /**
         * Runs the timed call.
         *
         * @throws IOException when reading or writing fails
         */
        protected abstract void invoke() throws IOException;

        /**
         * Builds the value and the file (untimed, once per fork).
         *
         * @throws IOException when the directory cannot be created
         */
        @Setup(Level.Trial)
        public void setUpTrial() throws IOException {
            problem = ClassificationProblem.mlp();
            value = build(problem);
            arrays = arraysOf();
            loadManager = NDManager.newBaseManager();
            dir = Files.createTempDirectory("posteriors-persistence-bench");
            file = dir.resolve("value.safetensors");
            prepare();
        }

        /**
         * Runs one call.
         *
         * @throws IOException when reading or writing fails
         */
        @Benchmark
        public void call() throws IOException {
            invoke();
        }

        /** Writes the arrays' raw bytes back to back and forces them to the device. */
        protected void writeRaw() throws IOException {
            try (FileChannel ch =
                    FileChannel.open(
                            file,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING)) {
                long p = 0;
                for (NDArray a : arrays) {
                    ByteBuffer b = a.toByteBuffer(true);
                    while (b.hasRemaining()) {
                        p += ch.write(b, p);
                    }
                }
                ch.force(true);
            }
        }

        /** Reads the arrays' raw bytes into new direct buffers. */
        protected void readRaw() throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long p = 0;
                for (NDArray a : arrays) {
                    ByteBuffer b =
                            ByteBuffer.allocateDirect(
                                    Math.toIntExact(a.size() * a.getDataType().getNumOfBytes()));
                    while (b.hasRemaining()) {
                        p += ch.read(b, p);
                    }
                }
            }
        }

        @Override
        protected void release() {
            if (value instanceof OptimizeState s) {
                s.close();
            }
            loadManager.close();
            problem.close();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Base of the benchmarks on the MLP's parameter tree. */
    @State(Scope.Benchmark)
    public abstract static class TreeBench extends FileBench {
        @Override
        protected Object build(ClassificationProblem p) {
            return p.initialParams();
        }

        @Override
        protected List<NDArray> arraysOf() {
            return ((TensorTree) value).leaves();
        }
    }

    /**
     * Base of the benchmarks on an {@code Optimize} + SGD-with-momentum state of the MLP (params,
     * one momentum tree, the log posterior), after one step.
     */
    @State(Scope.Benchmark)
    public abstract static class StateBench extends FileBench {
        @Override
        protected Object build(ClassificationProblem p) {
            Optimize<Batch> t =
                    Optimize.builder(p.logPosterior(), Sgd.of(1e-2).momentum(0.9)).build();
            OptimizeState s = t.init(p.initialParams());
            var step = t.updateInPlace(s, p.batches().get(0));
            step.aux().close();
            return step.state();
        }

        @Override
        protected List<NDArray> arraysOf() {
            return new ArrayList<>(((OptimizeState) value).arrays());
        }
    }

    /** Baseline: the tree's raw bytes written to a file and forced to the device. */
    @State(Scope.Benchmark)
    public static class RawWriteTreeMlp extends TreeBench {
        @Override
        protected void invoke() throws IOException {
            writeRaw();
        }
    }

    /** {@code PosteriorFiles.save} of the tree (ratio vs {@link RawWriteTreeMlp}). */
    @State(Scope.Benchmark)
    public static class SaveTreeMlp extends TreeBench {
        @Override
        protected void invoke() throws IOException {
            PosteriorFiles.save(file, value);
        }
    }

    /** Baseline: the tree's raw bytes read from a file into direct buffers. */
    @State(Scope.Benchmark)
    public static class RawReadTreeMlp extends TreeBench {
        @Override
        protected void prepare() throws IOException {
            writeRaw();
        }

        @Override
        protected void invoke() throws IOException {
            readRaw();
        }
    }

    /** {@code PosteriorFiles.load} of the tree, arrays closed (ratio vs {@link RawReadTreeMlp}). */
    @State(Scope.Benchmark)
    public static class LoadTreeMlp extends TreeBench {
        @Override
        protected void prepare() throws IOException {
            PosteriorFiles.save(file, value);
        }

        @Override
        protected void invoke() throws IOException {
            PosteriorFiles.load(file, TensorTree.class, loadManager).close();
        }
    }

    /** Baseline: the state's raw bytes written to a file and forced to the device. */
    @State(Scope.Benchmark)
    public static class RawWriteStateMlp extends StateBench {
        @Override
        protected void invoke() throws IOException {
            writeRaw();
        }
    }

    /** {@code PosteriorFiles.save} of the state (ratio vs {@link RawWriteStateMlp}). */
    @State(Scope.Benchmark)
    public static class SaveStateMlp extends StateBench {
        @Override
        protected void invoke() throws IOException {
            PosteriorFiles.save(file, value);
        }
    }

    /** Baseline: the state's raw bytes read from a file into direct buffers. */
    @State(Scope.Benchmark)
    public static class RawReadStateMlp extends StateBench {
        @Override
        protected void prepare() throws IOException {
            writeRaw();
        }

        @Override
        protected void invoke() throws IOException {
            readRaw();
        }
    }

    /**
     * {@code PosteriorFiles.load} of the state, arrays closed (ratio vs {@link RawReadStateMlp}).
     */
    @State(Scope.Benchmark)
    public static class LoadStateMlp extends StateBench {
        @Override
        protected void prepare() throws IOException {
            PosteriorFiles.save(file, value);
        }

        @Override
        protected void invoke() throws IOException {
            PosteriorFiles.load(file, OptimizeState.class, loadManager).close();
        }
    }
}
