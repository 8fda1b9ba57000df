/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_CMDKEEP_H
#define __DM_CMDKEEP_H

#include <stdint.h>

/*
 * The command elements whose values may leave dicomon (evidence pcaps, event
 * lines, the feed): what a responder needs to see what happened. Group
 * 0000 only (PS3.7 Annex E); every other element's value (Error Comment,
 * Offending Element, Error ID, attribute lists, event/action type ids,
 * anything unknown) is never shown: only its tag and length.
 *
 *   (0000,0000) group length         (0000,0700) priority
 *   (0000,0002) affected SOP class   (0000,0800) command data set type
 *   (0000,0003) requested SOP class  (0000,0900) status
 *   (0000,0100) command field        (0000,1000) affected SOP instance
 *   (0000,0110) message id           (0000,1001) requested SOP instance
 *   (0000,0120) responded-to id      (0000,1020..1023) sub-operation counts
 *   (0000,0600) move destination     (0000,1030) move originator AE
 *                                    (0000,1031) move originator message id
 *
 * Returns the longest value of elem that may be shown (its VR's: UL 4, US 2,
 * UI 64, AE 16), 0 when the value is never shown. A longer value is not a
 * value of that element and is not shown either.
 */
uint32_t dm_cmd_value_max(uint16_t elem);

#endif /* __DM_CMDKEEP_H */
