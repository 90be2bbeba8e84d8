/*  common/passphrase.c - passphrases from the terminal or a file
 *  descriptor; see passphrase.h.
 *
 *  Design note: echo off is a state of the terminal, not of this process,
 *  so a program killed while it is off leaves the person's shell blind.
 *  Hence the dance of OpenBSD's readpassphrase(3): catch the signals that
 *  end or stop us, put the terminal back, give the old handlers back, then
 *  raise each caught signal again so the program's own handling happens;
 *  a job-control stop (Ctrl-Z, a background read or write) shows the
 *  prompt again once we are continued.  Unlike readpassphrase, the
 *  signals that come from outside are blocked except inside ppoll(),
 *  which unblocks them atomically while it waits: a signal that arrives
 *  between the last check and read() would otherwise leave read() waiting
 *  for a line nobody types, with echo off.  SIGTTIN and SIGTTOU stay
 *  unblocked: the kernel raises them during our own terminal calls, and
 *  blocked they would turn into EIO.  The handler state is process-wide:
 *  one reader at a time, which a command line program is.
 *
 *  Every passphrase byte goes straight into sodium_malloc() memory, a byte
 *  per read() so that a passphrase on a shared descriptor leaves what
 *  follows its line unread.
 */
#include "prelude.h"

#include "err.h"
#include "log.h"
#include "passphrase.h"

#define S_TTY_PATH "/dev/tty" /* the controlling terminal */
#define S_CONFIRM_PROMPT "Same passphrase again: "
#define S_BUF_BYTES (CS_PASSPHRASE_MAX + 2) /* one byte too many, and NUL */

/* The signals caught while echo is off. */
static const int s_signals[] = {SIGALRM, SIGHUP,  SIGINT,  SIGPIPE, SIGQUIT,
                                SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};

#define S_NSIGNALS (sizeof s_signals / sizeof s_signals[0])

/* Which of s_signals arrived while echo was off (set by s_on_signal). */
static volatile sig_atomic_t s_caught[S_NSIGNALS];

static void
s_on_signal(int sig)
{
    for (size_t i = 0; i < S_NSIGNALS; i++)
        if (s_signals[i] == sig)
            s_caught[i] = 1;
}

/* Returns true once any signal was caught. */
static bool
s_any_caught(void)
{
    for (size_t i = 0; i < S_NSIGNALS; i++)
        if (s_caught[i])
            return true;
    return false;
}

/* Returns true if sig (one of s_signals) was caught. */
static bool
s_was_caught(int sig)
{
    for (size_t i = 0; i < S_NSIGNALS; i++)
        if (s_signals[i] == sig)
            return s_caught[i] != 0;
    return false;
}

/* Returns true for the signals that stop a job rather than end it. */
static bool
s_job_control(int sig)
{
    return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void
cs_passphrase_free(char *p, size_t len)
{
    if (p == NULL)
        return;
    sodium_memzero(p, len);
    sodium_free(p); /* wipes the whole block too */
}

static int
s_buf_new(char **out)
{
    if (sodium_init() < 0)
        return CS_ERR_CRYPTO;
    *out = sodium_malloc(S_BUF_BYTES);
    if (*out == NULL) {
        cs_log_err(CS_ERR_NOMEM, "sodium_malloc(%d)", S_BUF_BYTES);
        return CS_ERR_NOMEM;
    }
    return 0;
}

/* Reads one line from fd into buf (S_BUF_BYTES), a byte at a time, up to
   a newline (dropped), the end of input or CS_PASSPHRASE_MAX + 1 bytes.
     fd         where from
     buf        receives the line, NUL-terminated
     len        receives its length
     wait_mask  NULL, or the signal mask to wait for input under (ppoll):
                then a caught signal ends the line
   Returns 0, or CS_ERR_IO with errno from ppoll() or read(). */
static int
s_read_line(int fd, char *buf, size_t *len, const sigset_t *wait_mask)
{
    size_t n = 0;
    int r = 0;

    while (n <= CS_PASSPHRASE_MAX) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (wait_mask != NULL && ppoll(&pfd, 1, NULL, wait_mask) < 0) {
            if (errno == EINTR && !s_any_caught())
                continue;
            r = CS_ERR_IO;
            break;
        }
        ssize_t got = read(fd, buf + n, 1);
        if (got < 0 && errno == EINTR && !s_any_caught())
            continue;
        if (got < 0) {
            r = CS_ERR_IO;
            break;
        }
        if (got == 0 || buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    *len = n;
    return r;
}

/* Refuses an empty or too long passphrase. */
static int
s_check(size_t len)
{
    if (len == 0)
        return CS_ERR_INVALID;
    if (len > CS_PASSPHRASE_MAX)
        return CS_ERR_TOO_BIG;
    return 0;
}

int
cs_passphrase_read_fd(int fd, char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    int r, saved_errno;

    *out = NULL;
    *len = 0;
    if ((r = s_buf_new(&buf)) != 0 ||
        (r = s_read_line(fd, buf, &n, NULL)) != 0 || (r = s_check(n)) != 0)
        goto out;
    *out = buf;
    *len = n;
    buf = NULL;
out:
    saved_errno = errno;
    cs_passphrase_free(buf, n);
    errno = saved_errno;
    return r;
}

/* Writes the string s to the terminal, unless a signal is caught. */
static int
s_write_str(int tty, const char *s)
{
    size_t n = strlen(s), done = 0;

    while (done < n) {
        ssize_t w = write(tty, s + done, n - done);
        if (w < 0 && errno == EINTR && !s_any_caught())
            continue;
        if (w <= 0)
            return CS_ERR_IO;
        done += (size_t)w;
    }
    return 0;
}

/* Shows prompt and reads one line with echo off, once.
     tty     the open terminal
     orig    its settings before we touched it, restored on the way out
     prompt  what to show
     buf     receives the line (S_BUF_BYTES)
     len     receives its length
     again   set when a job-control signal stopped us: ask again
   Returns 0 or CS_ERR_IO (errno tells; EINTR for a signal that did not
   end the program). */
static int
s_tty_ask_once(int tty, const struct termios *orig, const char *prompt,
               char *buf, size_t *len, bool *again)
{
    struct sigaction act, old[S_NSIGNALS];
    struct termios quiet = *orig;
    sigset_t block, wait_mask;
    bool interrupted = false;
    int r, saved_errno;

    *again = false;
    *len = 0;
    buf[0] = '\0';
    sigemptyset(&block);
    for (size_t i = 0; i < S_NSIGNALS; i++)
        if (s_signals[i] != SIGTTIN && s_signals[i] != SIGTTOU)
            sigaddset(&block, s_signals[i]);
    /* wait_mask: the caller's mask, used only while ppoll() waits. */
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    memset(&act, 0, sizeof act);
    sigemptyset(&act.sa_mask);
    act.sa_handler = s_on_signal; /* no SA_RESTART: calls must return */
    for (size_t i = 0; i < S_NSIGNALS; i++) {
        s_caught[i] = 0;
        sigaction(s_signals[i], &act, &old[i]);
    }
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0 ||
        s_write_str(tty, prompt) != 0) {
        r = CS_ERR_IO;
    } else {
        r = s_read_line(tty, buf, len, &wait_mask);
    }
    saved_errno = errno;
    if (!s_any_caught() && s_write_str(tty, "\n") != 0 && r == 0) {
        r = CS_ERR_IO; /* the newline typed was not echoed */
        saved_errno = errno;
    }
    /* A background process restoring the terminal gets SIGTTOU: give up
       then, the stop below comes first and we restore after it. */
    while (tcsetattr(tty, TCSAFLUSH, orig) != 0 && errno == EINTR &&
           !s_was_caught(SIGTTOU))
        continue;
    /* Old handlers first, then the old mask: a signal still pending goes
       to the program's own handling, with the terminal already restored. */
    for (size_t i = 0; i < S_NSIGNALS; i++)
        sigaction(s_signals[i], &old[i], NULL);
    sigprocmask(SIG_SETMASK, &wait_mask, NULL);
    for (size_t i = 0; i < S_NSIGNALS; i++) {
        if (!s_caught[i])
            continue;
        kill(getpid(), s_signals[i]);
        if (s_job_control(s_signals[i]))
            *again = true;
        else
            interrupted = true;
    }
    if (interrupted) {
        *again = false;
        r = CS_ERR_IO;
        saved_errno = EINTR;
    }
    errno = saved_errno;
    return r;
}

/* Asks until an answer comes that no job-control stop interrupted, and
   checks it; *out and *len receive it, owned by the caller. */
static int
s_tty_ask(int tty, const struct termios *orig, const char *prompt, char **out,
          size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    bool again = true;
    int r = 0, saved_errno;

    *out = NULL;
    *len = 0;
    if ((r = s_buf_new(&buf)) != 0)
        goto out;
    while (again) {
        if ((r = s_tty_ask_once(tty, orig, prompt, buf, &n, &again)) != 0 &&
            !again)
            goto out;
    }
    if ((r = s_check(n)) != 0)
        goto out;
    *out = buf;
    *len = n;
    buf = NULL;
out:
    saved_errno = errno;
    cs_passphrase_free(buf, n);
    errno = saved_errno;
    return r;
}

int
cs_passphrase_read_tty(const char *prompt, bool confirm, char **out,
                       size_t *len)
{
    char *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    struct termios orig;
    int tty, r, saved_errno;

    *out = NULL;
    *len = 0;
    /* ENXIO without a controlling terminal; O_NOCTTY so that we never
       acquire one by opening it. */
    tty = open(S_TTY_PATH, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0 || tcgetattr(tty, &orig) != 0) {
        r = CS_ERR_NOT_FOUND;
        goto out;
    }
    if ((r = s_tty_ask(tty, &orig, prompt, &first, &first_len)) != 0)
        goto out;
    if (confirm && (r = s_tty_ask(tty, &orig, S_CONFIRM_PROMPT, &second,
                                  &second_len)) != 0)
        goto out;
    if (confirm && (first_len != second_len ||
                    sodium_memcmp(first, second, first_len) != 0)) {
        r = CS_ERR_BAD_VALUE;
        goto out;
    }
    *out = first;
    *len = first_len;
    first = NULL;
    r = 0;
out:
    saved_errno = errno;
    cs_passphrase_free(first, first_len);
    cs_passphrase_free(second, second_len);
    if (tty >= 0)
        close(tty);
    errno = saved_errno;
    return r;
}
