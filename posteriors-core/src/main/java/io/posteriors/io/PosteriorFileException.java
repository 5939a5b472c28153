package io.posteriors.io;

import java.io.IOException;
import java.util.Objects;

/**
 * Thrown when a posterior file cannot be loaded because of what it holds: it is truncated,
 * corrupted, hostile, of another format or version, or holds another type than the caller asked
 * for. The message names the file, what was wrong (the tensor, the field, expected and found); the
 * {@link #problem()} says which check failed.
 *
 * <p>Nothing is returned when this is thrown: every array created before the failure has been
 * closed.
 */
public final class PosteriorFileException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The check that failed. */
    public enum Problem {
        /** The file is shorter than its header says, or too short to hold a header. */
        TRUNCATED,
        /** The 8-byte header length is out of range (too small, too large for the file). */
        HEADER_LENGTH,
        /** The header is not valid UTF-8 or not strict JSON within the limits. */
        JSON,
        /** The header is JSON but not a posterior file's (no or another {@code format}). */
        FORMAT,
        /** The format version is one this library cannot read. */
        VERSION,
        /** The header's CRC32C does not match its bytes: the header was corrupted. */
        HEADER_CHECKSUM,
        /** A tensor's entry in the header is malformed (fields, dtype, shape or size). */
        TENSOR_ENTRY,
        /** A tensor or leaf name is not allowed (path tricks, control characters, too long). */
        NAME,
        /** Tensor byte ranges overlap, leave gaps, overflow or do not end where the file does. */
        OFFSETS,
        /** A tensor's bytes do not match their CRC32C: the data was corrupted. */
        TENSOR_CHECKSUM,
        /** The recorded structure does not fit the expected type (missing or extra fields). */
        STRUCTURE,
        /** The file holds another type than the caller expected. */
        TYPE_MISMATCH,
        /** A recorded value is malformed or refused by the type it loads into. */
        VALUE
    }

    private final Problem problem;

    /**
     * Creates the exception.
     *
     * @param problem the check that failed
     * @param message what was wrong, naming the file and the item
     */
    public PosteriorFileException(Problem problem, String message) {
        super(message);
        this.problem = Objects.requireNonNull(problem, "problem");
    }

    /**
     * Creates the exception with a cause.
     *
     * @param problem the check that failed
     * @param message what was wrong, naming the file and the item
     * @param cause the underlying exception
     */
    public PosteriorFileException(Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.problem = Objects.requireNonNull(problem, "problem");
    }

    /**
     * Returns the check that failed.
     *
     * @return the problem
     */
    public Problem problem() {
        return problem;
    }
}
