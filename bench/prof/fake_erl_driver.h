/* fake_erl_driver.h: the harness side of fake_erl_driver.c (see there). */
#ifndef FAKE_ERL_DRIVER_H
#define FAKE_ERL_DRIVER_H

extern long fake_sent;      /* replies sent with erl_drv_send_term */
extern long fake_errors;    /* ... of which carried '$nocopy_error' */

#endif /* FAKE_ERL_DRIVER_H */
