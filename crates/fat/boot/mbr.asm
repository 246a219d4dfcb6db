; spindle's MBR: chain-loads the active partition's boot sector (BIOS, real mode).
; Moves itself from 0:7C00 to 0:0600, finds the partition entry marked active (0x80),
; reads its first sector to 0:7C00 with the INT 13h extensions (LBA), checks the 0x55AA
; signature and jumps there with DL = the BIOS drive number and DS:SI = the entry.
; Assembled with: nasm -f bin -o mbr.bin mbr.asm   (at most 440 bytes: the signature
; and the partition table follow).
bits 16
org 0x0600

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
    mov si, 0x7C00              ; move ourselves out of the way of the boot sector
    mov di, 0x0600
    mov cx, 256
    rep movsw
    jmp 0:relocated

relocated:
    mov [drive], dl
    mov si, table
    mov cx, 4
.find:
    cmp byte [si], 0x80
    je found
    add si, 16
    loop .find
    mov si, msg_noactive
    jmp fail

found:
    mov eax, [si + 8]           ; the partition's first sector
    mov [dap_lba], eax
    push si
    mov ah, 0x41                ; INT 13h extensions present?
    mov bx, 0x55AA
    mov dl, [drive]
    int 0x13
    jc .noext
    cmp bx, 0xAA55
    jne .noext
    mov si, dap
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc .readerr
    pop si
    cmp word [0x7DFE], 0xAA55
    jne .nosig
    mov dl, [drive]
    jmp 0:0x7C00
.noext:
    mov si, msg_noext
    jmp fail
.readerr:
    mov si, msg_read
    jmp fail
.nosig:
    mov si, msg_nosig

fail:                           ; print the message at SI, then let the BIOS try the next disk
    lodsb
    test al, al
    jz .done
    mov ah, 0x0E
    mov bx, 7
    int 0x10
    jmp fail
.done:
    int 0x18
.halt:
    hlt
    jmp .halt

drive:        db 0x80
dap:          db 16, 0
              dw 1              ; one sector
              dw 0x7C00, 0      ; to 0000:7C00
dap_lba:      dd 0, 0
msg_noactive: db "spindle MBR: no active partition", 13, 10, 0
msg_noext:    db "spindle MBR: no INT 13h extensions", 13, 10, 0
msg_read:     db "spindle MBR: disk read error", 13, 10, 0
msg_nosig:    db "spindle MBR: no boot sector", 13, 10, 0

times 440 - ($ - $$) db 0
table equ 0x0600 + 446
