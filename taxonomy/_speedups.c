/* The package's optional C loops (see taxonomy/_compiled.py): splitting documents into
 * words, the word and character n-gram blocks' scoring (taxonomy/model/kernels.py), and
 * the JSON Lines reader's check of a block of lines (taxonomy/io/jsonl.py).
 *
 * The package builds without them (no compiler, say) and then does the same with numpy,
 * scipy and Arrow. Arrays come in through the buffer protocol, so no numpy headers are
 * needed to build it; every index is checked before it is used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A buffer of `count` items of `size` bytes, or a ValueError naming `name`. */
static int
check(const Py_buffer *b, Py_ssize_t size, const char *name, Py_ssize_t *count)
{
    if (b->itemsize != size || b->len % size != 0) {
        PyErr_Format(PyExc_ValueError, "%s: expected items of %zd bytes", name, size);
        return -1;
    }
    *count = b->len / size;
    return 0;
}

/* Whether an output buffer shares memory with any of the other buffers: a loop would then
 * overwrite what it checked (or what it still reads). */
static int
overlapping(const char *name, const Py_buffer *out, const Py_buffer *const *others, int n)
{
    const char *x = out->buf;
    for (int i = 0; i < n; i++) {
        const char *y = others[i]->buf;
        if (others[i] != out && out->len > 0 && others[i]->len > 0 && x < y + others[i]->len
            && y < x + out->len) {
            PyErr_Format(PyExc_ValueError, "%s: an output shares memory with another array",
                         name);
            return 1;
        }
    }
    return 0;
}

/* Whether 0 <= a[0] <= a[1] <= ... <= a[n - 1] <= limit: CSR-style starts that index safely
 * into an array of limit items. */
static int
ascending(const int64_t *a, Py_ssize_t n, int64_t limit)
{
    int64_t before = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (a[i] < before || a[i] > limit)
            return 0;
        before = a[i];
    }
    return 1;
}

/* Whether every a[i] lies in [low, high). */
static int
within(const int64_t *a, Py_ssize_t n, int64_t low, int64_t high)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (a[i] < low || a[i] >= high)
            return 0;
    return 1;
}

/* A hash table from uint64 keys to int64 values as features._Lookup builds it, its keys and
 * values interleaved (pairs[2 i], pairs[2 i + 1]: one cache line per probe), 2**bits slots,
 * Fibonacci hashing, linear probing; an empty slot's key is all ones. */
typedef struct {
    const uint64_t *pairs;
    uint64_t mask;
    int shift;
} Table;

/* The table of a buffer of 2**(bits + 1) uint64 whose values (where a key is stored) lie in
 * [0, high), or -1 with a ValueError. */
static int
table_of(const Py_buffer *b, int bits, int64_t high, const char *name, Table *t)
{
    Py_ssize_t n;
    if (check(b, 8, name, &n))
        return -1;
    if (bits < 1 || bits > 62 || n != ((Py_ssize_t)2 << bits)) {
        PyErr_Format(PyExc_ValueError, "%s: expected 2**(bits + 1) items", name);
        return -1;
    }
    t->pairs = b->buf;
    t->mask = ((uint64_t)1 << bits) - 1;
    t->shift = 64 - bits;
    int empty = 0; /* a probe ends at an empty slot: there must be one */
    for (uint64_t i = 0; i <= t->mask; i++) {
        const int64_t value = (int64_t)t->pairs[2 * i + 1];
        if (t->pairs[2 * i] == 0xFFFFFFFFFFFFFFFFULL)
            empty = 1;
        else if (value < 0 || value >= high) {
            PyErr_Format(PyExc_ValueError, "%s: an index is out of range", name);
            return -1;
        }
    }
    if (!empty) {
        PyErr_Format(PyExc_ValueError, "%s: the table has no empty slot", name);
        return -1;
    }
    return 0;
}

/* The value stored under key, or -1. */
static inline int64_t
table_get(const Table *t, uint64_t key)
{
    uint64_t slot = (key * 0x9E3779B97F4A7C15ULL) >> t->shift;
    for (;;) {
        const uint64_t found = t->pairs[2 * slot];
        if (found == key)
            return (int64_t)t->pairs[2 * slot + 1];
        if (found == 0xFFFFFFFFFFFFFFFFULL)
            return -1;
        slot = (slot + 1) & t->mask;
    }
}

/* char_linear(doc_starts, word_codes, gram_starts, gram_ids, gram_counts, table, width,
 *             sublinear, logs, weight, out)
 *
 * Document d is the words word_codes[doc_starts[d]:doc_starts[d + 1]] (int64); word w holds
 * the n-grams gram_ids[gram_starts[w]:gram_starts[w + 1]] (int64 starts, int32 ids), each
 * gram_counts times (float64). Row g of table (float64, width + 1 columns) holds n-gram g's
 * idf times each weight column, then its idf squared. With sublinear a count c weighs
 * 1 + log(c), read from logs for small counts. Writes each document's L2-normalized TF-IDF
 * vector times the weights, times weight, into out (documents x width, float64).
 */
static PyObject *
char_linear(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer bufs[7] = {{0}};
    Py_buffer out_buf = {0};
    Py_ssize_t width;
    int sublinear;
    double weight;
    PyObject *result = NULL;
    Py_ssize_t columns;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*nnpy*dw*", &bufs[0], &bufs[1], &bufs[2], &bufs[3],
                          &bufs[4], &bufs[5], &width, &columns, &sublinear, &bufs[6], &weight,
                          &out_buf))
        return NULL;
    Py_ssize_t n_starts, n_codes, n_gram_starts, n_ids, n_counts, n_table, n_logs, n_out;
    if (check(&bufs[0], 8, "doc_starts", &n_starts) || check(&bufs[1], 8, "word_codes", &n_codes)
        || check(&bufs[2], 8, "gram_starts", &n_gram_starts)
        || check(&bufs[3], 4, "gram_ids", &n_ids) || check(&bufs[4], 8, "gram_counts", &n_counts)
        || check(&bufs[5], 8, "table", &n_table) || check(&bufs[6], 8, "logs", &n_logs)
        || check(&out_buf, 8, "out", &n_out))
        goto done;
    const Py_ssize_t n_docs = n_starts - 1, n_words = n_gram_starts - 1;
    if (n_docs < 0 || n_words < 0 || width < 0 || width > 4096 || columns <= width
        || columns > 4096 || n_counts != n_ids || n_table % columns != 0
        || (n_docs == 0 ? n_out != 0 : n_out % n_docs != 0 || n_out / n_docs != width)) {
        PyErr_SetString(PyExc_ValueError, "char_linear: array sizes do not agree");
        goto done;
    }
    {
        const Py_buffer *inputs[] = {&bufs[0], &bufs[1], &bufs[2], &bufs[3], &bufs[4], &bufs[5],
                                     &bufs[6]};
        if (overlapping("char_linear", &out_buf, inputs, 7))
            goto done;
    }
    const int64_t *doc_starts = bufs[0].buf, *word_codes = bufs[1].buf, *gram_starts = bufs[2].buf;
    const int32_t *gram_ids = bufs[3].buf;
    const double *gram_counts = bufs[4].buf, *table = bufs[5].buf, *logs = bufs[6].buf;
    double *out = out_buf.buf;
    const Py_ssize_t n_grams = n_table / columns;
    /* Every index is checked before use: a bad array is an error, never a stray read. */
    if (!ascending(doc_starts, n_starts, n_codes) || !ascending(gram_starts, n_gram_starts, n_ids)
        || !within(word_codes, n_codes, 0, n_words))
        goto bad;
    for (Py_ssize_t i = 0; i < n_ids; i++)
        if (gram_ids[i] < 0 || gram_ids[i] >= n_grams
            || !(gram_counts[i] >= 1.0 && gram_counts[i] <= 65535.0
                 && gram_counts[i] == floor(gram_counts[i])))
            goto bad; /* a count below 1 would list an n-gram twice; not whole, misread */
    /* Counts are summed in int32: no document may reach 2**31 n-grams (bounded by its words
     * times the most n-grams any word has). */
    double most = 0.0;
    for (Py_ssize_t w = 0; w < n_words; w++) {
        double total = 0.0;
        for (int64_t e = gram_starts[w]; e < gram_starts[w + 1]; e++)
            total += gram_counts[e];
        most = total > most ? total : most;
    }
    for (Py_ssize_t d = 0; d < n_docs; d++)
        if ((double)(doc_starts[d + 1] - doc_starts[d]) * most >= (double)INT32_MAX)
            goto bad;

    int32_t *counts = calloc(n_grams ? n_grams : 1, sizeof(int32_t));
    int32_t *seen = malloc((n_grams ? n_grams : 1) * sizeof(int32_t));
    double *row = malloc((width ? width : 1) * sizeof(double));
    if (!counts || !seen || !row) {
        free(counts);
        free(seen);
        free(row);
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        Py_ssize_t n_seen = 0;
        for (int64_t at = doc_starts[d]; at < doc_starts[d + 1]; at++) {
            const int64_t word = word_codes[at];
            for (int64_t e = gram_starts[word]; e < gram_starts[word + 1]; e++) {
                const int32_t gram = gram_ids[e];
                const int32_t before = counts[gram];
                seen[n_seen] = gram; /* kept only if new: no branch to mispredict */
                n_seen += before == 0;
                counts[gram] = before + (int32_t)gram_counts[e];
            }
        }
        memset(row, 0, width * sizeof(double));
        double squares = 0.0;
        for (Py_ssize_t i = 0; i < n_seen; i++) {
            const int32_t gram = seen[i];
            const int32_t count = counts[gram];
            counts[gram] = 0;
            double tf = (double)count;
            if (sublinear)
                tf = count < n_logs ? logs[count] : log((double)count) + 1.0;
            const double *weights = table + (Py_ssize_t)gram * columns;
            for (Py_ssize_t j = 0; j < width; j++)
                row[j] += tf * weights[j];
            squares += tf * tf * weights[width];
        }
        const double norm = sqrt(squares);
        const double scale = norm > 0.0 ? weight / norm : weight;
        for (Py_ssize_t j = 0; j < width; j++)
            out[d * width + j] = row[j] * scale;
    }
    Py_END_ALLOW_THREADS
    free(counts);
    free(seen);
    free(row);
    result = Py_None;
    Py_INCREF(result);
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError, "char_linear: an index is out of range");
done:
    for (int i = 0; i < 7; i++)
        PyBuffer_Release(&bufs[i]);
    PyBuffer_Release(&out_buf);
    return result;
}

/* FNV-1a over a piece's bytes. */
static inline uint64_t
hash_bytes(const unsigned char *p, Py_ssize_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* split_pieces(data, starts, ends, shortest, codes, lengths, offsets, chars)
 *
 * Splits document d, the bytes data[starts[d]:ends[d]] (int64 bounds), at spaces (0x20),
 * keeping pieces of at least `shortest` bytes (bytes, not characters: the callers' non-ASCII
 * pieces are runs of two or more word characters, or non-empty words, so both agree), and
 * numbers the distinct pieces in order of first occurrence. Writes each kept piece's number
 * in turn into codes (int64), each document's count of pieces into lengths (int64), and the
 * distinct pieces' bytes one after the other into chars, piece k being
 * chars[offsets[k]:offsets[k + 1]] (int64). Returns (pieces, distinct pieces); a ValueError
 * if an output is too small.
 */
static PyObject *
split_pieces(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer data = {0}, starts_buf = {0}, ends_buf = {0};
    Py_buffer codes_buf = {0}, lengths_buf = {0}, offsets_buf = {0}, chars_buf = {0};
    Py_ssize_t shortest;
    PyObject *result = NULL;
    int64_t *slots = NULL;
    uint64_t *hashes = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*nw*w*w*w*", &data, &starts_buf, &ends_buf, &shortest,
                          &codes_buf, &lengths_buf, &offsets_buf, &chars_buf))
        return NULL;
    Py_ssize_t n_docs, n_ends, capacity, n_lengths, n_offsets, n_chars, n_data;
    if (check(&data, 1, "data", &n_data) || check(&starts_buf, 8, "starts", &n_docs)
        || check(&ends_buf, 8, "ends", &n_ends) || check(&codes_buf, 8, "codes", &capacity)
        || check(&lengths_buf, 8, "lengths", &n_lengths)
        || check(&offsets_buf, 8, "offsets", &n_offsets)
        || check(&chars_buf, 1, "chars", &n_chars))
        goto done;
    if (n_ends != n_docs || n_lengths != n_docs || n_offsets < 1 || shortest < 1) {
        PyErr_SetString(PyExc_ValueError, "split_pieces: array sizes do not agree");
        goto done;
    }
    {
        const Py_buffer *all[] = {&data, &starts_buf, &ends_buf, &codes_buf, &lengths_buf,
                                  &offsets_buf, &chars_buf};
        if (overlapping("split_pieces", &codes_buf, all, 7)
            || overlapping("split_pieces", &lengths_buf, all, 7)
            || overlapping("split_pieces", &offsets_buf, all, 7)
            || overlapping("split_pieces", &chars_buf, all, 7))
            goto done;
    }
    const unsigned char *bytes = data.buf;
    const int64_t *starts = starts_buf.buf, *ends = ends_buf.buf;
    int64_t *codes = codes_buf.buf, *lengths = lengths_buf.buf, *offsets = offsets_buf.buf;
    unsigned char *chars = chars_buf.buf;
    for (Py_ssize_t d = 0; d < n_docs; d++)
        if (starts[d] < 0 || starts[d] > ends[d] || ends[d] > n_data) {
            PyErr_SetString(PyExc_ValueError, "split_pieces: a document is out of range");
            goto done;
        }
    /* Open addressing, linear probing, at most half full: a slot holds a piece's number. */
    Py_ssize_t size = 1024, n_pieces = 0, n_distinct = 0, too_small = 0;
    slots = malloc(size * sizeof(int64_t));
    hashes = malloc((n_offsets - 1 > 0 ? n_offsets - 1 : 1) * sizeof(uint64_t));
    if (!slots || !hashes) {
        PyErr_NoMemory();
        goto done;
    }
    memset(slots, 0xff, size * sizeof(int64_t));
    offsets[0] = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs && !too_small; d++) {
        int64_t i = starts[d], end = ends[d], count = 0;
        while (i < end) {
            while (i < end && bytes[i] == ' ')
                i++;
            int64_t j = i;
            while (j < end && bytes[j] != ' ')
                j++;
            const Py_ssize_t n = j - i;
            if (n >= shortest) {
                const uint64_t h = hash_bytes(bytes + i, n);
                Py_ssize_t at = (Py_ssize_t)(h & (uint64_t)(size - 1));
                int64_t id;
                while ((id = slots[at]) >= 0
                       && !(hashes[id] == h && offsets[id + 1] - offsets[id] == n
                            && memcmp(chars + offsets[id], bytes + i, n) == 0))
                    at = (at + 1) & (size - 1);
                if (id < 0) { /* a new piece */
                    if (n_distinct + 1 >= n_offsets || offsets[n_distinct] + n > n_chars) {
                        too_small = 1;
                        break;
                    }
                    id = n_distinct++;
                    memcpy(chars + offsets[id], bytes + i, n);
                    offsets[id + 1] = offsets[id] + n;
                    hashes[id] = h;
                    slots[at] = id;
                    if (2 * n_distinct >= size) { /* grow: every piece moves to a new slot */
                        int64_t *grown = malloc(2 * size * sizeof(int64_t));
                        if (!grown) {
                            too_small = 2;
                            break;
                        }
                        free(slots);
                        slots = grown;
                        size *= 2;
                        memset(slots, 0xff, size * sizeof(int64_t));
                        for (int64_t k = 0; k < n_distinct; k++) {
                            Py_ssize_t s = (Py_ssize_t)(hashes[k] & (uint64_t)(size - 1));
                            while (slots[s] >= 0)
                                s = (s + 1) & (size - 1);
                            slots[s] = k;
                        }
                    }
                }
                if (n_pieces >= capacity) {
                    too_small = 1;
                    break;
                }
                codes[n_pieces++] = id;
                count++;
            }
            i = j;
        }
        lengths[d] = count;
    }
    Py_END_ALLOW_THREADS
    if (too_small == 2)
        PyErr_NoMemory();
    else if (too_small)
        PyErr_SetString(PyExc_ValueError, "split_pieces: an output array is too small");
    else
        result = Py_BuildValue("nn", n_pieces, n_distinct);
done:
    free(slots);
    free(hashes);
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts_buf);
    PyBuffer_Release(&ends_buf);
    PyBuffer_Release(&codes_buf);
    PyBuffer_Release(&lengths_buf);
    PyBuffer_Release(&offsets_buf);
    PyBuffer_Release(&chars_buf);
    return result;
}

/* Sorts a[0:n] ascending: quicksort (middle pivot, Hoare partition) down to short runs,
 * then insertion sort. Inlined comparisons: a few times faster than qsort on the hundred or
 * so features of an abstract. */
static void
sort_int32(int32_t *a, Py_ssize_t n)
{
    while (n > 16) {
        const int32_t pivot = a[n / 2];
        Py_ssize_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            const int32_t t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        /* a[0:j + 1] <= pivot <= a[j + 1:n]: recurse into the smaller side, loop on the other. */
        if (j + 1 < n - j - 1) {
            sort_int32(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            sort_int32(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        const int32_t v = a[i];
        Py_ssize_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Sorts the non-negative a[0:n] ascending by their low 8 * passes bits, a byte at a time
 * (least significant first, stable), through tmp (n items): no comparison to mispredict,
 * which made comparison sorts most of the word loop's time. */
static void
radix_sort_int32(int32_t *a, int32_t *tmp, Py_ssize_t n, int passes)
{
    Py_ssize_t count[256];
    for (int pass = 0; pass < passes; pass++) {
        const int shift = 8 * pass;
        memset(count, 0, sizeof(count));
        for (Py_ssize_t i = 0; i < n; i++)
            count[(a[i] >> shift) & 0xff]++;
        Py_ssize_t total = 0;
        for (int b = 0; b < 256; b++) {
            const Py_ssize_t c = count[b];
            count[b] = total;
            total += c;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xff]++] = a[i];
        memcpy(a, tmp, n * sizeof(int32_t));
    }
}

/* word_features(tokens, doc_starts, unigram, pairs, bits, size, idf, sublinear, logs,
 *               unigrams, bigrams, indptr, indices, data)
 *
 * The word block's TF-IDF rows (see WordBlock in taxonomy/model/features.py). Document d is
 * the tokens[doc_starts[d]:doc_starts[d + 1]] (int64): a token's id below `size`, size - 1
 * for one outside the vocabulary, -1 for a stop word (dropped before pairs are formed). With
 * `unigrams`, token t counts feature unigram[t] (int64, -1: none); with `bigrams`, two
 * tokens in a row, both in the vocabulary, count the feature that the hash table pairs (see
 * Table, 2**bits slots) holds for first * size + second. Writes CSR rows, indices sorted
 * (int32), each row's (1 + log count, with sublinear) * idf L2-normalized; returns the number
 * of entries.
 */
static PyObject *
word_features(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer bufs[6] = {{0}};
    Py_buffer out[3] = {{0}};
    int bits, sublinear, unigrams, bigrams;
    long long size;
    PyObject *result = NULL;
    int32_t *counts = NULL;
    int32_t *seen = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iLy*py*ppw*w*w*", &bufs[0], &bufs[1], &bufs[2],
                          &bufs[3], &bits, &size, &bufs[4], &sublinear, &bufs[5], &unigrams,
                          &bigrams, &out[0], &out[1], &out[2]))
        return NULL;
    Py_ssize_t n_tokens, n_starts, n_unigram, n_idf, n_logs, n_indptr, n_indices, n_data;
    Table pairs;
    if (check(&bufs[0], 8, "tokens", &n_tokens) || check(&bufs[1], 8, "doc_starts", &n_starts)
        || check(&bufs[2], 8, "unigram", &n_unigram)
        || check(&bufs[4], 8, "idf", &n_idf) || check(&bufs[5], 8, "logs", &n_logs)
        || check(&out[0], 8, "indptr", &n_indptr)
        || check(&out[1], 4, "indices", &n_indices) || check(&out[2], 8, "data", &n_data))
        goto done;
    if (n_starts < 1 || n_indptr != n_starts || n_unigram != size || size < 1
        || n_data != n_indices || n_idf >= INT32_MAX || n_tokens >= INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "word_features: array sizes do not agree");
        goto done;
    }
    if (table_of(&bufs[3], bits, n_idf, "word_features: bigrams", &pairs))
        goto done;
    {
        const Py_buffer *all[] = {&bufs[0], &bufs[1], &bufs[2], &bufs[3], &bufs[4], &bufs[5],
                                  &out[0], &out[1], &out[2]};
        if (overlapping("word_features", &out[0], all, 9)
            || overlapping("word_features", &out[1], all, 9)
            || overlapping("word_features", &out[2], all, 9))
            goto done;
    }
    const int64_t *tokens = bufs[0].buf, *doc_starts = bufs[1].buf, *unigram = bufs[2].buf;
    const double *idf = bufs[4].buf, *logs = bufs[5].buf;
    int64_t *indptr = out[0].buf;
    int32_t *indices = out[1].buf;
    double *data = out[2].buf;
    const Py_ssize_t n_docs = n_starts - 1;
    if (!ascending(doc_starts, n_starts, n_tokens) || !within(tokens, n_tokens, -1, size))
        goto bad;
    for (Py_ssize_t i = 0; i < size; i++)
        if (unigram[i] >= n_idf)
            goto bad;
    counts = calloc(n_idf ? n_idf : 1, sizeof(int32_t));
    seen = malloc(2 * (n_idf ? n_idf : 1) * sizeof(int32_t));
    if (!counts || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    int32_t *scratch = seen + (n_idf ? n_idf : 1);
    int passes = 1; /* bytes needed for the largest feature id */
    while (passes < 4 && ((Py_ssize_t)1 << (8 * passes)) < n_idf)
        passes++;
    const uint64_t unknown = (uint64_t)(size - 1);
    Py_ssize_t n_entries = 0;
    int too_small = 0;
    Py_BEGIN_ALLOW_THREADS
    indptr[0] = 0;
    for (Py_ssize_t d = 0; d < n_docs && !too_small; d++) {
        Py_ssize_t n_seen = 0;
        int64_t previous = -1;
        for (int64_t at = doc_starts[d]; at < doc_starts[d + 1]; at++) {
            const int64_t token = tokens[at];
            if (token < 0)
                continue;
            int64_t found[2] = {-1, -1};
            if (unigrams)
                found[0] = unigram[token];
            if (bigrams && previous >= 0 && (uint64_t)previous != unknown
                && (uint64_t)token != unknown) {
                found[1] = table_get(&pairs, (uint64_t)previous * (uint64_t)size
                                                 + (uint64_t)token);
            }
            for (int k = 0; k < 2; k++) {
                const int64_t feature = found[k];
                if (feature >= 0) {
                    const int32_t before = counts[feature];
                    seen[n_seen] = (int32_t)feature;
                    n_seen += before == 0;
                    counts[feature] = before + 1;
                }
            }
            previous = token;
        }
        if (n_entries + n_seen > n_indices) {
            too_small = 1;
            break;
        }
        if (n_seen > 64)
            radix_sort_int32(seen, scratch, n_seen, passes);
        else
            sort_int32(seen, n_seen);
        double squares = 0.0;
        for (Py_ssize_t i = 0; i < n_seen; i++) {
            const int32_t feature = seen[i];
            const int32_t count = counts[feature];
            counts[feature] = 0;
            double tf = (double)count;
            if (sublinear)
                tf = count < n_logs ? logs[count] : log((double)count) + 1.0;
            const double value = tf * idf[feature];
            indices[n_entries + i] = feature;
            data[n_entries + i] = value;
            squares += value * value;
        }
        double norm = sqrt(squares);
        if (norm == 0.0)
            norm = 1.0;
        for (Py_ssize_t i = 0; i < n_seen; i++)
            data[n_entries + i] /= norm;
        n_entries += n_seen;
        indptr[d + 1] = n_entries;
    }
    Py_END_ALLOW_THREADS
    if (too_small)
        PyErr_SetString(PyExc_ValueError, "word_features: an output array is too small");
    else
        result = PyLong_FromSsize_t(n_entries);
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError, "word_features: an index is out of range");
done:
    free(counts);
    free(seen);
    for (int i = 0; i < 6; i++)
        PyBuffer_Release(&bufs[i]);
    for (int i = 0; i < 3; i++)
        PyBuffer_Release(&out[i]);
    return result;
}

/* word_grams(data, offsets, pairs, bits, shortest, longest, indptr, indices, counts)
 *
 * The vocabulary n-grams (n from shortest to longest, at most 7) of ASCII words: word w is
 * data[offsets[w]:offsets[w + 1]], padded with a space each side as scikit-learn's char_wb
 * does. Each n-gram is packed into an integer (its length, then its bytes, 8 bits each, as
 * CharBlock._packed_vocabulary packs the vocabulary) and looked up in the hash table pairs
 * (see Table, 2**bits slots). Writes a CSR matrix of words x n-grams: indptr (int64), indices
 * sorted (int32), counts (float64); returns its entries.
 */
static PyObject *
word_grams(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer data = {0}, offsets_buf = {0}, pairs_buf = {0};
    Py_buffer indptr_buf = {0}, indices_buf = {0}, counts_buf = {0};
    int bits;
    Py_ssize_t shortest, longest;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*innw*w*w*", &data, &offsets_buf, &pairs_buf, &bits,
                          &shortest, &longest, &indptr_buf, &indices_buf, &counts_buf))
        return NULL;
    Py_ssize_t n_data, n_offsets, n_indptr, capacity, n_counts;
    Table pairs;
    if (check(&data, 1, "data", &n_data) || check(&offsets_buf, 8, "offsets", &n_offsets)
        || table_of(&pairs_buf, bits, INT32_MAX, "word_grams: vocabulary", &pairs)
        || check(&indptr_buf, 8, "indptr", &n_indptr)
        || check(&indices_buf, 4, "indices", &capacity)
        || check(&counts_buf, 8, "counts", &n_counts))
        goto done;
    if (n_offsets < 1 || n_indptr != n_offsets || n_counts != capacity
        || shortest < 1 || longest < shortest || longest > 7) {
        PyErr_SetString(PyExc_ValueError, "word_grams: array sizes do not agree");
        goto done;
    }
    {
        const Py_buffer *all[] = {&data, &offsets_buf, &pairs_buf, &indptr_buf, &indices_buf,
                                  &counts_buf};
        if (overlapping("word_grams", &indptr_buf, all, 6)
            || overlapping("word_grams", &indices_buf, all, 6)
            || overlapping("word_grams", &counts_buf, all, 6))
            goto done;
    }
    const unsigned char *bytes = data.buf;
    const int64_t *offsets = offsets_buf.buf;
    int64_t *indptr = indptr_buf.buf;
    int32_t *indices = indices_buf.buf;
    double *counts = counts_buf.buf;
    const Py_ssize_t n_words = n_offsets - 1;
    if (!ascending(offsets, n_offsets, n_data)) {
        PyErr_SetString(PyExc_ValueError, "word_grams: a word is out of range");
        goto done;
    }
    Py_ssize_t n_entries = 0;
    int too_small = 0;
    Py_BEGIN_ALLOW_THREADS
    indptr[0] = 0;
    for (Py_ssize_t w = 0; w < n_words; w++) {
        const unsigned char *word = bytes + offsets[w];
        const Py_ssize_t size = offsets[w + 1] - offsets[w], padded = size + 2;
        const Py_ssize_t first = n_entries;
        for (Py_ssize_t n = shortest; n <= longest && n <= padded; n++) {
            if (n_entries + (padded - n + 1) > capacity) {
                too_small = 1;
                break;
            }
            for (Py_ssize_t at = 0; at + n <= padded; at++) {
                uint64_t code = (uint64_t)n;
                for (Py_ssize_t k = at; k < at + n; k++) {
                    const unsigned char c = k == 0 || k == padded - 1 ? ' ' : word[k - 1];
                    code = (code << 8) | c;
                }
                const int64_t gram = table_get(&pairs, code);
                if (gram >= 0)
                    indices[n_entries++] = (int32_t)gram;
            }
        }
        if (too_small)
            break;
        /* The word's n-grams sorted, repeats summed into counts. */
        sort_int32(indices + first, n_entries - first);
        Py_ssize_t kept = first;
        for (Py_ssize_t i = first; i < n_entries; i++) {
            if (kept > first && indices[kept - 1] == indices[i]) {
                counts[kept - 1] += 1.0;
            } else {
                indices[kept] = indices[i];
                counts[kept++] = 1.0;
            }
        }
        n_entries = kept;
        indptr[w + 1] = n_entries;
    }
    Py_END_ALLOW_THREADS
    if (too_small)
        PyErr_SetString(PyExc_ValueError, "word_grams: an output array is too small");
    else
        result = PyLong_FromSsize_t(n_entries);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets_buf);
    PyBuffer_Release(&pairs_buf);
    PyBuffer_Release(&indptr_buf);
    PyBuffer_Release(&indices_buf);
    PyBuffer_Release(&counts_buf);
    return result;
}

/* term_counts(tokens, doc_starts, pairs, bits, size, node_starts, node_categories, width, out)
 *
 * How often each category's terms occur in each document (see TermBlock in
 * taxonomy/model/features.py). Document d is tokens[doc_starts[d]:doc_starts[d + 1]]
 * (int64): a token's id among the terms' tokens (below size), or -1 for a token of no term.
 * The terms form a trie: node 0 is the root; the hash table pairs (see Table) maps
 * node * size + token to the child node, and node k ends the terms of categories
 * node_categories[node_starts[k]:node_starts[k + 1]]. Adds each match to out (documents x
 * width categories, float64).
 */
static PyObject *
term_counts(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer bufs[5] = {{0}};
    Py_buffer out_buf = {0};
    int bits;
    long long size;
    Py_ssize_t width;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*iLy*y*nw*", &bufs[0], &bufs[1], &bufs[2], &bits, &size,
                          &bufs[3], &bufs[4], &width, &out_buf))
        return NULL;
    Py_ssize_t n_tokens, n_starts, n_nodes1, n_categories, n_out;
    Table pairs;
    if (check(&bufs[0], 8, "tokens", &n_tokens) || check(&bufs[1], 8, "doc_starts", &n_starts)
        || check(&bufs[3], 8, "node_starts", &n_nodes1)
        || check(&bufs[4], 8, "node_categories", &n_categories)
        || check(&out_buf, 8, "out", &n_out))
        goto done;
    const Py_ssize_t n_docs = n_starts - 1, n_nodes = n_nodes1 - 1;
    if (n_docs < 0 || n_nodes < 1 || size < 1 || width < 0 || width > 4096
        || (n_docs == 0 ? n_out != 0 : n_out % n_docs != 0 || n_out / n_docs != width)) {
        PyErr_SetString(PyExc_ValueError, "term_counts: array sizes do not agree");
        goto done;
    }
    if (table_of(&bufs[2], bits, n_nodes, "term_counts: edges", &pairs))
        goto done;
    {
        const Py_buffer *inputs[] = {&bufs[0], &bufs[1], &bufs[2], &bufs[3], &bufs[4]};
        if (overlapping("term_counts", &out_buf, inputs, 5))
            goto done;
    }
    const int64_t *tokens = bufs[0].buf, *doc_starts = bufs[1].buf;
    const int64_t *node_starts = bufs[3].buf, *node_categories = bufs[4].buf;
    double *out = out_buf.buf;
    if (!ascending(doc_starts, n_starts, n_tokens) || !within(tokens, n_tokens, -1, size)
        || !ascending(node_starts, n_nodes1, n_categories)
        || !within(node_categories, n_categories, 0, width))
        goto bad;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs; d++) {
        const int64_t end = doc_starts[d + 1];
        for (int64_t at = doc_starts[d]; at < end; at++) {
            int64_t node = 0;
            for (int64_t j = at; j < end && tokens[j] >= 0; j++) {
                node = table_get(&pairs, (uint64_t)node * (uint64_t)size + (uint64_t)tokens[j]);
                if (node < 0)
                    break;
                for (int64_t c = node_starts[node]; c < node_starts[node + 1]; c++)
                    out[d * width + node_categories[c]] += 1.0;
            }
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError, "term_counts: an index is out of range");
done:
    for (int i = 0; i < 5; i++)
        PyBuffer_Release(&bufs[i]);
    PyBuffer_Release(&out_buf);
    return result;
}

/* expand_pieces(items, lengths, starts, pieces, out, out_lengths)
 *
 * Each document's items (item codes, lengths[d] per document, int64) replaced by their
 * pieces: item k stands for pieces[starts[k]:starts[k + 1]] (int64). Writes the pieces in
 * turn into out and each document's count into out_lengths; returns how many were written.
 * (A document's tokens are its words' tokens in turn.)
 */
static PyObject *
expand_pieces(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer bufs[4] = {{0}};
    Py_buffer out_buf = {0}, out_lengths_buf = {0};
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*", &bufs[0], &bufs[1], &bufs[2], &bufs[3],
                          &out_buf, &out_lengths_buf))
        return NULL;
    Py_ssize_t n_items, n_docs, n_starts, n_pieces, capacity, n_out_lengths;
    if (check(&bufs[0], 8, "items", &n_items) || check(&bufs[1], 8, "lengths", &n_docs)
        || check(&bufs[2], 8, "starts", &n_starts) || check(&bufs[3], 8, "pieces", &n_pieces)
        || check(&out_buf, 8, "out", &capacity)
        || check(&out_lengths_buf, 8, "out_lengths", &n_out_lengths))
        goto done;
    const int64_t *items = bufs[0].buf, *lengths = bufs[1].buf, *starts = bufs[2].buf;
    const int64_t *pieces = bufs[3].buf;
    int64_t *out = out_buf.buf, *out_lengths = out_lengths_buf.buf;
    const Py_ssize_t n_kinds = n_starts - 1;
    int bad = n_kinds < 0 || n_out_lengths != n_docs;
    Py_ssize_t total = 0;
    for (Py_ssize_t d = 0; d < n_docs && !bad; d++) {
        bad = lengths[d] < 0 || lengths[d] > n_items - total; /* the sum never overflows */
        total += bad ? 0 : lengths[d];
    }
    bad = bad || total != n_items;
    {
        const Py_buffer *all[] = {&bufs[0], &bufs[1], &bufs[2], &bufs[3], &out_buf,
                                  &out_lengths_buf};
        if (!bad && (overlapping("expand_pieces", &out_buf, all, 6)
                     || overlapping("expand_pieces", &out_lengths_buf, all, 6)))
            goto done;
    }
    bad = bad || !ascending(starts, n_starts, n_pieces) || !within(items, n_items, 0, n_kinds);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "expand_pieces: arrays do not agree");
        goto done;
    }
    Py_ssize_t written = 0, at = 0;
    int too_small = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t d = 0; d < n_docs && !too_small; d++) {
        const Py_ssize_t before = written;
        for (int64_t j = 0; j < lengths[d]; j++, at++) {
            const int64_t item = items[at];
            const int64_t size = starts[item + 1] - starts[item];
            if (written + size > capacity) {
                too_small = 1;
                break;
            }
            memcpy(out + written, pieces + starts[item], size * sizeof(int64_t));
            written += size;
        }
        out_lengths[d] = written - before;
    }
    Py_END_ALLOW_THREADS
    if (too_small)
        PyErr_SetString(PyExc_ValueError, "expand_pieces: the output array is too small");
    else
        result = PyLong_FromSsize_t(written);
done:
    for (int i = 0; i < 4; i++)
        PyBuffer_Release(&bufs[i]);
    PyBuffer_Release(&out_buf);
    PyBuffer_Release(&out_lengths_buf);
    return result;
}

/* plain_object_lines(body, max_depth) -> bool
 *
 * What taxonomy/io/jsonl.py's _object_lines and _plain_values decide with numpy, in one pass:
 * whether every line of body (which ends with a newline) starts with '{' and ends with '}'
 * (before an optional carriage return), closes every string it opens, and, outside strings,
 * holds no 'Inf' or 'NaN' and nests brackets no deeper than max_depth. A quote preceded by an
 * odd run of backslashes is escaped, inside strings or out, as the numpy version counts it.
 */
static PyObject *
plain_object_lines(PyObject *Py_UNUSED(self), PyObject *args)
{
    Py_buffer body = {0};
    Py_ssize_t max_depth;
    if (!PyArg_ParseTuple(args, "y*n", &body, &max_depth))
        return NULL;
    const unsigned char *p = body.buf;
    const Py_ssize_t n = body.len;
    int ok = n > 0 && p[n - 1] == '\n';
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0;
    while (ok && i < n) {
        if (p[i] != '{') {
            ok = 0;
            break;
        }
        const Py_ssize_t start = i;
        int in_string = 0;
        Py_ssize_t depth = 0;
        /* Every scan is bounded by n too: the body's last newline was checked, but a
         * writable body could change while the GIL is released. */
        for (; i < n && p[i] != '\n'; i++) {
            if (in_string) /* most bytes: run to the next quote, backslash or newline */
                while (i < n && p[i] != '"' && p[i] != '\\' && p[i] != '\n')
                    i++;
            if (i >= n)
                break;
            const unsigned char c = p[i];
            if (c == '\n')
                break;
            if (c == '\\') { /* a run of backslashes: an odd one escapes a quote after it */
                Py_ssize_t run = 0;
                while (i < n && p[i] == '\\') {
                    run++;
                    i++;
                }
                if (i >= n || p[i] == '\n')
                    break;
                if (p[i] == '"' && run % 2 == 1)
                    continue; /* escaped: not a quote */
                i--; /* the character after the run is looked at as any other */
                continue;
            }
            if (c == '"') {
                in_string = !in_string;
            } else if (!in_string) {
                if (c == '{' || c == '[') {
                    if (++depth > max_depth) {
                        ok = 0;
                        break;
                    }
                } else if (c == '}' || c == ']') {
                    depth--;
                } else if ((c == 'I' && i + 2 < n && p[i + 1] == 'n' && p[i + 2] == 'f')
                           || (c == 'N' && i + 2 < n && p[i + 1] == 'a' && p[i + 2] == 'N')) {
                    ok = 0;
                    break;
                }
            }
        }
        if (!ok || i >= n) {
            ok = 0;
            break;
        }
        /* p[i] is this line's newline. */
        const unsigned char last = i > start ? p[i - 1] : '\n';
        if (in_string || !(last == '}' || (last == '\r' && i - 2 >= start && p[i - 2] == '}')))
            ok = 0;
        i++;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&body);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"char_linear", char_linear, METH_VARARGS,
     "The character n-gram block's share of each logit (see taxonomy.model.kernels)."},
    {"word_features", word_features, METH_VARARGS,
     "The word block's TF-IDF rows (see taxonomy.model.kernels)."},
    {"word_grams", word_grams, METH_VARARGS,
     "The vocabulary n-grams of ASCII words (see taxonomy.model.kernels)."},
    {"term_counts", term_counts, METH_VARARGS,
     "How often each category's terms occur in each document (see taxonomy.model.kernels)."},
    {"plain_object_lines", plain_object_lines, METH_VARARGS,
     "Whether a block of JSON Lines is for Arrow to read (see taxonomy.io.jsonl)."},
    {"expand_pieces", expand_pieces, METH_VARARGS,
     "Documents' items replaced by their pieces (see taxonomy.model.kernels)."},
    {"split_pieces", split_pieces, METH_VARARGS,
     "Documents split at spaces, their distinct pieces numbered (see taxonomy.model.kernels)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "The package's optional C loops.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
