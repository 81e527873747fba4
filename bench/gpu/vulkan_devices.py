#!/usr/bin/env python3
"""The Vulkan devices this machine's loader finds: the adapters Dawn, ONNX Runtime's WebGPU, chooses from.
Asks libvulkan.so.1 directly through ctypes (no vulkaninfo there), one line per device: its name, type,
vendor and device ids, Vulkan version and driver version. Exit status 1 when the loader or an instance
cannot be had, or no device is found, with the reason.

Usage: vulkan_devices.py   (honours VK_DRIVER_FILES / VK_ICD_FILENAMES, as Dawn does)
"""
import ctypes
import sys

DEVICE_TYPES = {0: 'other', 1: 'integrated GPU', 2: 'discrete GPU', 3: 'virtual GPU', 4: 'CPU'}


class ApplicationInfo(ctypes.Structure):
    _fields_ = [('sType', ctypes.c_int32), ('pNext', ctypes.c_void_p), ('pApplicationName', ctypes.c_char_p), ('applicationVersion', ctypes.c_uint32),
                ('pEngineName', ctypes.c_char_p), ('engineVersion', ctypes.c_uint32), ('apiVersion', ctypes.c_uint32)]


class InstanceCreateInfo(ctypes.Structure):
    _fields_ = [('sType', ctypes.c_int32), ('pNext', ctypes.c_void_p), ('flags', ctypes.c_uint32), ('pApplicationInfo', ctypes.POINTER(ApplicationInfo)),
                ('enabledLayerCount', ctypes.c_uint32), ('ppEnabledLayerNames', ctypes.c_void_p), ('enabledExtensionCount', ctypes.c_uint32),
                ('ppEnabledExtensionNames', ctypes.c_void_p)]


class PhysicalDeviceProperties(ctypes.Structure):
    # The leading fields of VkPhysicalDeviceProperties; the padding holds its limits and sparse properties.
    _fields_ = [('apiVersion', ctypes.c_uint32), ('driverVersion', ctypes.c_uint32), ('vendorID', ctypes.c_uint32), ('deviceID', ctypes.c_uint32),
                ('deviceType', ctypes.c_int32), ('deviceName', ctypes.c_char * 256), ('pipelineCacheUUID', ctypes.c_uint8 * 16), ('rest', ctypes.c_uint8 * 4096)]


def version(v):
    return f'{(v >> 22) & 0x7f}.{(v >> 12) & 0x3ff}.{v & 0xfff}'


def driver_version(vendor, v):
    # NVIDIA packs its driver version as 10.8.8.6 bits; others follow Vulkan's own packing.
    return f'{(v >> 22) & 0x3ff}.{(v >> 14) & 0xff}.{(v >> 6) & 0xff}' if vendor == 0x10de else version(v)


def main():
    try:
        vulkan = ctypes.CDLL('libvulkan.so.1')
    except OSError as e:
        print(f'vulkan_devices: no Vulkan loader: {e}')
        return 1
    app = ApplicationInfo(sType=0, pApplicationName=b'netloom', apiVersion=(1 << 22) | (1 << 12))
    info = InstanceCreateInfo(sType=1, pApplicationInfo=ctypes.pointer(app))
    instance = ctypes.c_void_p()
    result = vulkan.vkCreateInstance(ctypes.byref(info), None, ctypes.byref(instance))
    if result != 0:
        print(f'vulkan_devices: vkCreateInstance failed with VkResult {result}' + (' (VK_ERROR_INCOMPATIBLE_DRIVER: no driver found)' if result == -9 else ''))
        return 1
    count = ctypes.c_uint32()
    vulkan.vkEnumeratePhysicalDevices(instance, ctypes.byref(count), None)
    devices = (ctypes.c_void_p * count.value)()
    vulkan.vkEnumeratePhysicalDevices(instance, ctypes.byref(count), devices)
    for device in devices:
        p = PhysicalDeviceProperties()
        vulkan.vkGetPhysicalDeviceProperties(ctypes.c_void_p(device), ctypes.byref(p))
        print(f'{p.deviceName.decode()}: {DEVICE_TYPES.get(p.deviceType, p.deviceType)}, vendor 0x{p.vendorID:04x} device 0x{p.deviceID:04x}, '
              f'Vulkan {version(p.apiVersion)}, driver {driver_version(p.vendorID, p.driverVersion)}')
    vulkan.vkDestroyInstance(instance, None)
    if count.value == 0:
        print('vulkan_devices: the loader found no Vulkan device')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
