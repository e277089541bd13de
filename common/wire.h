/*-------------------------------------------------------------------------
 *
 * wire.h
 *	  Constants of the plugin-to-relay frame format (docs/wire-format.md).
 *
 * Header only: included by the backend plugin and by the daemons, so it
 * must not allocate or depend on either side's runtime.
 *
 * IDENTIFICATION
 *	  common/wire.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_WIRE_H
#define FERRY_WIRE_H

#define FERRY_WIRE_VERSION		1

#define FERRY_FRAME_BEGIN		'B'
#define FERRY_FRAME_SCHEMA		'S'
#define FERRY_FRAME_RECORD		'R'
#define FERRY_FRAME_COMMIT		'C'

/* str32 length meaning NULL */
#define FERRY_WIRE_NULL_LEN		0xFFFFFFFFu

#endif							/* FERRY_WIRE_H */
