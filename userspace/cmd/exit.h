/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* dicomon's exit codes (README, dicomon(8); the systemd unit does not restart on 2 and 5). */
#ifndef __DM_EXIT_H
#define __DM_EXIT_H

#define DM_EXIT_USAGE	2 /* bad command line or configuration */
#define DM_EXIT_BPF	3 /* cannot load or attach */
#define DM_EXIT_RUNTIME 4 /* event loop failure */
#define DM_EXIT_STATE	5 /* another daemon (its pins or status socket), or another layout */
#define DM_EXIT_CAPTURE 6 /* replay: a capture missing, unreadable, damaged or unsupported */
#define DM_EXIT_PERM	7 /* status, detach: permission denied (socket, pins) */

#endif /* __DM_EXIT_H */
