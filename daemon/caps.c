/* SPDX-License-Identifier: MIT */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

const struct cap_need thpd_cap_needs[] = {
    {CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
     "process_madvise(MADV_COLLAPSE) and reading other users' /proc/PID/smaps", false},
    {CAP_SYS_NICE, "CAP_SYS_NICE", "process_madvise(MADV_COLLAPSE)", false},
    {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH", "reading other users' /proc/PID/pagemap", false},
    {CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE", "hotness: refs (writing /proc/PID/clear_refs)", true},
};
const size_t thpd_n_cap_needs = ARRAY_SIZE(thpd_cap_needs);

int cap_effective(int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {0};

	if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3)
		return -EINVAL;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	return !!(data[cap / 32].effective & (1u << (cap % 32)));
}
